"""Shared helpers for staff-side tests: branches, staff accounts, members, audit and outbox rows.

Everything here writes straight through the repositories (one committed unit of work per
helper), so a test can set up a shop in a few lines and then drive the bus with a
:class:`tests.chat.Chat`::

    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1", points=100)
    await cashier.say(f"/sale {ploy.member_code} 250")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import select, update

from bot.bootstrap import App
from bot.core.messages import Channel
from shop.inputs import parse_phone
from storage.models import AuditEntry, Branch, ChannelIdentity, Member, OutboxMessage, Staff
from storage.raw_session import session_of
from tests.chat import Chat

#: the flagship shop's branches: code → (Thai name, English name)
SHOP_BRANCHES: Final = {
    "asoke": ("อโศก", "Asoke"),
    "sukhumvit": ("สุขุมวิท", "Sukhumvit"),
    "phetchaburi": ("เพชรบุรี", "Phetchaburi"),
    "ratchada": ("รัชดา", "Ratchada"),
    "dindaeng": ("ดินแดง", "Din Daeng"),
}


async def ensure_branch(app: App, code: str) -> int:
    """The id of branch ``code``, created if missing (names from :data:`SHOP_BRANCHES`)."""
    async with app.uow() as uow:
        branch = await uow.branches.by_code(code)
        if branch is None:
            th, en = SHOP_BRANCHES.get(code.lower(), (code, code))
            branch = Branch(code=code.lower(), name_th=th, name_en=en, active=True)
            session_of(uow).add(branch)
            await uow.flush()
        branch_id = branch.id
        await uow.commit()
    return branch_id


async def ensure_branches(app: App, codes: Sequence[str] = tuple(SHOP_BRANCHES)) -> dict[str, int]:
    """Several branches at once, by code → id (all five flagship branches by default)."""
    return {code: await ensure_branch(app, code) for code in codes}


async def make_staff(
    app: App,
    user_id: str,
    role: str,
    branch_code: str | None = None,
    channel: Channel = Channel.TELEGRAM,
    name: str | None = None,
) -> Staff:
    """An active staff account for the chat identity (channel, user_id); the branch is created
    if it does not exist yet. The returned row is detached but readable (id, role, branch_id)."""
    branch_id = await ensure_branch(app, branch_code) if branch_code else None
    async with app.uow() as uow:
        staff = await uow.staff.add(
            channel.value, user_id, name or f"{role} {user_id}", role, branch_id, app.clock.now()
        )
        await uow.commit()
    return staff


async def staff_chat(
    app: App,
    user_id: str,
    role: str,
    branch_code: str | None = None,
    channel: Channel = Channel.TELEGRAM,
    language_code: str | None = "th",
    name: str | None = None,
) -> Chat:
    """A :class:`Chat` whose identity is an active staff account of ``role``."""
    await make_staff(app, user_id, role, branch_code, channel, name)
    return Chat(
        app,
        user_id=user_id,
        channel=channel,
        language_code=language_code,
        display_name=name or f"{role} {user_id}",
    )


async def make_member(
    app: App,
    name: str = "Ploy",
    phone: str | None = "081-234-5678",
    *,
    user_id: str | None = None,
    channel: Channel = Channel.TELEGRAM,
    points: int = 0,
    locale: str = "th",
    marketing: bool = True,
    birthday: date | None = date(1987, 5, 1),
    home_branch_code: str | None = None,
    phone_verified: bool = False,
) -> Member:
    """A signed-up member (both consents recorded), linked to the chat identity
    (channel, user_id) when ``user_id`` is given, with ``points`` as a ``welcome`` entry.

    ``phone`` may be in any Thai format; it is stored as E.164. Use ``Chat(app, user_id=…,
    channel=…)`` to talk as this member.
    """
    branch_id = await ensure_branch(app, home_branch_code) if home_branch_code else None
    now = app.clock.now()
    async with app.uow() as uow:
        member = await uow.members.add(
            Member(
                name=name,
                phone=parse_phone(phone) if phone else None,
                birthday=birthday,
                home_branch_id=branch_id,
                locale=locale,
                joined_at=now,
                marketing_opt_in=marketing,
                phone_verified=phone_verified,
                points_balance=0,
            )
        )
        for purpose, granted in (("membership", True), ("marketing", marketing)):
            await uow.members.record_consent(member.id, purpose, granted, "test", channel, now)
        if user_id is not None:
            identity = await uow.identities.touch(channel.value, user_id, now, name, locale)
            identity.member_id = member.id
        if points:
            await uow.points.append(member.id, points, "welcome", now)
        await uow.commit()
        member_id = member.id
    async with app.uow() as uow:  # a fresh, fully loaded copy (balance included)
        fresh = await uow.members.get(member_id)
        assert fresh is not None
        return fresh


async def member_chat(
    app: App,
    name: str = "Ploy",
    phone: str | None = "081-234-5678",
    user_id: str = "m1",
    channel: Channel = Channel.TELEGRAM,
    **fields: Any,
) -> tuple[Chat, Member]:
    """A member and a :class:`Chat` speaking as them."""
    locale = str(fields.get("locale", "th"))
    member = await make_member(app, name, phone, user_id=user_id, channel=channel, **fields)
    return Chat(
        app, user_id=user_id, channel=channel, language_code=locale, display_name=name
    ), member


async def audit_rows(app: App, action: str | None = None) -> list[AuditEntry]:
    """Audit entries in the order written, optionally only those of ``action``."""
    async with app.uow() as uow:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list((await session_of(uow).execute(query)).scalars().all())


async def outbox_rows(app: App, key_prefix: str = "") -> list[OutboxMessage]:
    """Outbox rows in the order written, optionally only those whose dedupe key starts so."""
    async with app.uow() as uow:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if key_prefix:
            query = query.where(OutboxMessage.dedupe_key.startswith(key_prefix))
        return list((await session_of(uow).execute(query)).scalars().all())


async def staff_row(app: App, staff_id: int) -> Staff:
    """A fresh copy of a staff row (to see ``active``, ``role`` after a command)."""
    async with app.uow() as uow:
        staff = await uow.staff.get(staff_id)
        assert staff is not None
        return staff


async def staff_of(app: App, user_id: str, channel: Channel = Channel.TELEGRAM) -> Staff | None:
    """The staff row (active or not) of a chat identity, if any."""
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(Staff).where(Staff.channel == channel.value, Staff.user_id == user_id)
        )
        return result.scalar_one_or_none()


async def block_chat(app: App, user_id: str) -> None:
    """The chat account ``user_id`` blocked the bot (as the dispatcher records a 403)."""
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.user_id == user_id)
            .values(reachable=False)
        )
        await uow.commit()
