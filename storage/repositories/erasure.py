"""Erasure of a member's personal data (PDPA s.33), in the caller's unit of work.

Personal data lives on ``members`` and ``channel_identities`` (plus free text in ``inbox``,
feedback and audit details, names in queued messages, in staff alerts about the member and in
the referral notice to the friend who invited them, and media made for them). The member row
stays, emptied, so sales and points keep an anonymous owner and the shop's totals do not
change.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, String, cast, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import forget_wal
from storage.models import (
    AuditEntry,
    ChannelIdentity,
    ConversationState,
    Coupon,
    Feedback,
    InboxMessage,
    InboxThread,
    Member,
    MemberNote,
    MemberTag,
    OutboxMessage,
    PointsEntry,
    SaleApproval,
)
from storage.repositories.media import MediaStore

log = logging.getLogger(__name__)

ERASED: Final = "erased"
#: set on the session by an erasure: its commit empties the SQLite WAL
FORGET_WAL: Final = "chatcrm.forget_wal"
EMPTY_PAYLOAD: Final[dict[str, Any]] = {"v": 1, "replies": []}
#: the actor of a customer's own actions in the audit log (handlers/customer/common.py)
SELF_ACTOR: Final = "customer"
#: staff-alert causes matched per statement (keeps the OR of LIKEs short)
ALERT_BATCH: Final = 100


def _not_text(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float)


def _theirs(
    member_column: Any, identity_column: Any, member_id: int | None, identity_ids: list[int]
) -> ColumnElement[bool]:
    """Rows of the member (when there is one) or of one of the chat accounts."""
    theirs = [identity_column.in_(identity_ids)]
    if member_id is not None:
        theirs.append(member_column == member_id)
    return or_(*theirs)


class Erasure:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def erase_member(self, member: Member, now: datetime) -> None:
        """Clear every personal field, delete the member's chat identities, their inbox
        messages, conversation states, not-yet-sent messages, staff's notes and tags about
        them, staff alerts and the referral notice to their inviter quoting them, media made
        for them; void their unused coupons; keep only numbers in audit rows about them; set
        ``erased_at``. On SQLite the commit then empties the WAL (:meth:`after_commit`);
        deleted rows are zeroed (``secure_delete``).

        A later event from the same chat account finds no identity and starts as a stranger.

        The member's row is locked first (PostgreSQL; SQLite has one writer anyway): whatever
        writes a row naming the member (a sale, a points entry, a queued notice: their foreign
        keys lock it to share) waits for this erasure's commit and then finds no chat account
        to write to, instead of queueing to one this erasure has not deleted yet. A coupon
        being issued (a reward bought, a promotion claimed) holds the row too and, once this
        erasure commits, finds the member erased and is not made (``issue_coupon``).
        """
        await self._s.execute(select(Member.id).where(Member.id == member.id).with_for_update())
        result = await self._s.execute(
            select(ChannelIdentity).where(ChannelIdentity.member_id == member.id).with_for_update()
        )
        identities = list(result.scalars().all())
        await self._forget_staff_alerts(member.id, [identity.id for identity in identities])
        await self._forget_inbox(member.id, [identity.id for identity in identities])
        await self._forget_messages(member)
        await self._forget_accounts(member.id, identities)
        await self._s.execute(  # their unused coupons die with them: nobody may redeem them
            update(Coupon)
            .where(Coupon.member_id == member.id, Coupon.status == "issued")
            .values(status="void")
        )
        # staff's notes and tags describe the person: they go too (one-time codes are useless
        # once ``erased_at`` is set, and hold no personal data)
        await self._s.execute(delete(MemberNote).where(MemberNote.member_id == member.id))
        await self._s.execute(delete(MemberTag).where(MemberTag.member_id == member.id))
        member.name = None
        member.phone = None
        member.phone_unlinked = None
        member.phone_verified = False
        member.birthday = None
        member.gender = None
        member.home_branch_id = None
        member.referred_by_code = None
        member.signup_source = None
        member.marketing_opt_in = False
        member.erased_at = now
        self._s.info[FORGET_WAL] = True
        await self._s.flush()

    async def erase_account(self, identity: ChannelIdentity) -> None:
        """Erase a chat account that belongs to no member (someone who wrote to the shop
        without joining): what they wrote to the inbox, staff alerts quoting it, answers sent
        to them, their conversation state, files made for them, and the account itself with
        its chat name. A later event from it starts as a new stranger."""
        await self._s.execute(
            select(ChannelIdentity.id).where(ChannelIdentity.id == identity.id).with_for_update()
        )
        await self._forget_staff_alerts(None, [identity.id])
        await self._forget_inbox(None, [identity.id])
        await self._forget_accounts(None, [identity])
        self._s.info[FORGET_WAL] = True
        await self._s.flush()

    async def _forget_accounts(
        self, member_id: int | None, identities: list[ChannelIdentity]
    ) -> None:
        """What the chat accounts themselves leave: messages queued to them (also those with
        no member on them, as answers to a stranger), audit rows they acted in, media made
        for them, conversation states; then the accounts go."""
        for identity in identities:
            to_it = (
                OutboxMessage.channel == identity.channel,
                OutboxMessage.user_id == identity.user_id,
            )
            await self._s.execute(
                delete(OutboxMessage).where(*to_it, OutboxMessage.status == "pending")
            )
            await self._s.execute(
                update(OutboxMessage).where(*to_it).values(user_id=ERASED, payload=EMPTY_PAYLOAD)
            )
        accounts = [f"{identity.channel}:{identity.user_id}" for identity in identities]
        await self._forget_audit_text(member_id, accounts)
        await MediaStore(self._s).forget_owners(accounts)
        for identity in identities:
            await self._s.execute(
                delete(ConversationState).where(
                    ConversationState.channel == identity.channel,
                    ConversationState.user_id == identity.user_id,
                )
            )
            await self._s.delete(identity)

    async def after_commit(self) -> None:
        """After the commit of an erasure, the SQLite WAL's old page copies go too (the unit
        of work calls this on every commit; without an erasure it does nothing). A failure is
        logged: the erasure itself is committed, the next checkpoint overwrites the frames."""
        if not self._s.info.pop(FORGET_WAL, False):
            return
        engine = self._s.bind
        if not isinstance(engine, AsyncEngine):
            return
        try:
            await forget_wal(engine)
        except Exception:  # the erasure is committed; the WAL is emptied later
            log.warning("WAL not emptied after an erasure", exc_info=True)

    async def _forget_staff_alerts(self, member_id: int | None, identity_ids: list[int]) -> None:
        """Messages to others about the person quote their words or name: staff alerts (a
        message of theirs, a low rating, a sale to approve and its answer to the cashier) and
        the referral notice to the friend who invited them. Unsent ones go, sent ones lose
        their text. They are found by the cause in their key: a staff alert's is
        ``<cause>|s<staff id>`` (handlers/notify.py)."""
        threads = select(InboxThread.id).where(
            _theirs(InboxThread.member_id, InboxThread.identity_id, member_id, identity_ids)
        )
        causes = [f"inbox:{thread_id}:a%" for thread_id in (await self._s.scalars(threads))]
        if member_id is not None:
            feedback = select(Feedback.id).where(Feedback.member_id == member_id)
            causes += [f"feedback:{fid}:low|%" for fid in await self._s.scalars(feedback)]
            # the owner's request to approve their sale and the cashier's answer name them
            approvals = select(SaleApproval.id).where(SaleApproval.member_id == member_id)
            for aid in await self._s.scalars(approvals):
                causes += [f"approval:{aid}:ask|%", f"approval:{aid}:done|%"]
            # the friend who invited them is told their name when the bonus is paid
            # (``shop.referral.referral_key``)
            causes.append(f"referral:{member_id}:referrer")
        for start in range(0, len(causes), ALERT_BATCH):
            about = or_(
                *(OutboxMessage.dedupe_key.like(c) for c in causes[start : start + ALERT_BATCH])
            )
            await self._s.execute(
                delete(OutboxMessage).where(about, OutboxMessage.status == "pending")
            )
            await self._s.execute(update(OutboxMessage).where(about).values(payload=EMPTY_PAYLOAD))

    async def _forget_audit_text(self, member_id: int | None, accounts: list[str]) -> None:
        """Audit rows about the person keep their numbers (ids, amounts) and lose their text:
        a tag, a field's new value or a branch may say who the person is. Rows whose actor is
        one of their chat accounts lose their text too and name the role instead."""
        about = [AuditEntry.member_id == member_id] if member_id is not None else []
        if accounts:
            about.append(AuditEntry.actor.in_(accounts))
        if not about:
            return
        for entry in await self._s.scalars(select(AuditEntry).where(or_(*about))):
            kept = {k: v for k, v in (entry.details or {}).items() if _not_text(v)}
            if kept != entry.details:
                entry.details = kept
            if entry.actor in accounts:
                entry.actor = SELF_ACTOR

    async def _forget_inbox(self, member_id: int | None, identity_ids: list[int]) -> None:
        """The person's inbox messages and threads go; a member's visit comments are emptied."""
        await self._s.execute(
            delete(InboxMessage).where(
                _theirs(InboxMessage.member_id, InboxMessage.identity_id, member_id, identity_ids)
            )
        )
        if member_id is not None:  # a visit comment is free text: personal (ratings stay)
            await self._s.execute(
                update(Feedback).where(Feedback.member_id == member_id).values(comment=None)
            )
        await self._s.execute(  # the threads those messages were in (the inbox, issue 5)
            delete(InboxThread).where(
                _theirs(InboxThread.member_id, InboxThread.identity_id, member_id, identity_ids)
            )
        )

    async def _forget_messages(self, member: Member) -> None:
        """Unsent messages to the member go; sent ones lose their chat id and text; an
        imported opening balance loses the phone in its key."""
        await self._s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.member_id == member.id, OutboxMessage.status == "pending"
            )
        )
        # messages already sent stay counted in campaign stats, but without the chat id and the
        # personalised text (the member's name) they carried
        await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member.id)
            .values(user_id=ERASED, payload=EMPTY_PAYLOAD)
        )
        # an imported opening balance is keyed by the phone it came with ("import:<phone>"):
        # the entry stays (the points are the shop's history), the phone in its key goes
        await self._s.execute(
            update(PointsEntry)
            .where(
                PointsEntry.member_id == member.id,
                PointsEntry.idempotency_key.like("import:+%"),
            )
            .values(idempotency_key=literal("import:erased:") + cast(PointsEntry.id, String))
        )
