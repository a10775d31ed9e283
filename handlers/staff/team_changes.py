"""Who may see and remove whom on the team, and the removal itself — one implementation for
the chat's ``/staff`` (:mod:`handlers.staff.team`) and the web console's staff page.

The rules are :mod:`handlers.staff.team`'s docstring: the owner removes anyone but the last
owner; a manager removes cashiers they can see. Removal deactivates the row (which also ends
the person's console sessions), revokes the invites they made, withdraws the messages queued
for them and not sent yet (alerts quote customers' words), is audited ``staff.removed`` and
tells the removed person in their own language through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import DomainError, NotAllowed
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import supported_locale, t
from handlers.staff.invite_list import revoke_made_by
from handlers.staff.menu import CUSTOMER_MENU, menu_meta
from shop.withdrawal import withdraw_staff_messages
from storage.models import Staff
from storage.uow import UnitOfWork


class LastOwner(DomainError):
    key = "staff.last_owner"


@dataclass(frozen=True, slots=True)
class Remover:
    """Who removes, from where, when; ``default_locale`` is the shop's."""

    staff: Staff
    actor: str
    channel: str
    now: datetime
    default_locale: str


def can_see(viewer: Staff, target: Staff) -> bool:
    if viewer.role == "owner":
        return True
    return viewer.role == "manager" and (
        viewer.branch_id is None or target.branch_id == viewer.branch_id
    )


def can_remove(viewer: Staff, target: Staff) -> bool:
    if viewer.role == "owner":
        return True
    return viewer.role == "manager" and target.role == "cashier" and can_see(viewer, target)


async def removable(uow: UnitOfWork, viewer: Staff, staff_id: int) -> Staff | None:
    """The active staff account ``staff_id`` if ``viewer`` may remove it; raises NotAllowed
    for one they may not touch (also one they cannot see: no probing by id)."""
    target = await uow.staff.get(staff_id)
    if target is None or not target.active:
        return None
    if not can_remove(viewer, target):
        raise NotAllowed()
    return target


async def is_last_owner(uow: UnitOfWork, target: Staff) -> bool:
    if target.role != "owner":
        return False
    owners = [s for s in await uow.staff.active() if s.role == "owner"]
    return len(owners) <= 1


async def remove_staff(uow: UnitOfWork, by: Remover, staff_id: int) -> Staff | None:
    """Deactivate the account (never delete: sales and audit rows keep pointing at it), audit
    ``staff.removed``, revoke the invites they made, and tell the removed person (unless they
    removed themselves). None when there is no such active account; ``LastOwner`` for the last
    owner. The owners' rows are locked until the commit, so two owners removing each other at
    once leave one; an owner removed a moment ago removes nobody (``NotAllowed``)."""
    owners = {owner.id for owner in await uow.staff.lock_owners()}
    if by.staff.role == "owner" and by.staff.id not in owners:
        raise NotAllowed()
    target = await removable(uow, by.staff, staff_id)
    if target is None:
        return None
    if target.role == "owner" and owners <= {target.id}:
        raise LastOwner()
    await uow.staff.deactivate(target)
    await revoke_made_by(uow, target, by.actor, by.now, by.channel)
    await withdraw_staff_messages(uow, target.id)
    await uow.audit.record(
        by.actor,
        "staff.removed",
        by.now,
        channel=by.channel,
        staff_id=target.id,
        role=target.role,
        branch_id=target.branch_id,
    )
    if target.id != by.staff.id:
        await _tell_removed(uow, by, target)
    return target


async def _tell_removed(uow: UnitOfWork, by: Remover, target: Staff) -> None:
    identity = await uow.identities.get(target.channel, target.user_id)
    if identity is not None and not identity.reachable:
        return
    member = None
    if identity is not None and identity.member_id is not None:
        member = await uow.members.get(identity.member_id)
    if member is not None and member.erased_at is None:
        locale = member.locale
    else:
        chosen = identity.chosen_locale if identity is not None else None
        hint = identity.language_code if identity is not None else None
        locale = chosen or supported_locale(hint) or by.default_locale
    # in the removed person's language, not the remover's
    reply = Reply(text=t(locale, "staff.you_were_removed"), meta=menu_meta(CUSTOMER_MENU, locale))
    await uow.outbox.enqueue(
        f"staff:{target.id}:removed:{by.now.isoformat()}",
        target.channel,
        target.user_id,
        replies_to_payload([reply]),
        by.now,
    )
