"""What the outbox holds, read for people: pending counts, the depth per channel for
``chatcrm status``, and the staff to notify (with what decides their language)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.models import ChannelIdentity, Member, OutboxMessage, Staff, table_of

_STAFF: Final = table_of(Staff)
_IDENTITIES: Final = table_of(ChannelIdentity)
_MEMBERS: Final = table_of(Member)

PENDING: Final = "pending"
FAILED: Final = "failed"


def is_pending() -> ColumnElement[bool]:
    """``status = 'pending'`` with the value in the SQL text, as the outbox's partial indexes
    say it: SQLite and PostgreSQL use a partial index only for a query whose condition proves
    the index's, and a bound ``status = ?`` proves it only to a plan made for that value
    (SQLite prepares the statement again on every execution; a generic PostgreSQL plan cannot
    use the index at all). Rows looked up by id need no index of status: those keep binding it.
    """
    return OutboxMessage.status == literal_column(f"'{PENDING}'")


def is_urgent() -> ColumnElement[bool]:
    """Pending and urgent, in the words of ``ix_outbox_urgent`` (see :func:`is_pending`)."""
    return and_(is_pending(), OutboxMessage.priority > literal_column("0"))


def is_failed() -> ColumnElement[bool]:
    """``status = 'failed'`` in the words of ``ix_outbox_failed`` (see :func:`is_pending`)."""
    return OutboxMessage.status == literal_column(f"'{FAILED}'")


@dataclass(frozen=True, slots=True)
class ChannelDepth:
    """A channel's queue: ``due`` pending rows may go now, ``deferred`` ones wait for a time
    (quiet hours, a retry, a claim's lease), ``failed`` ones gave up."""

    channel: str
    due: int
    deferred: int
    failed: int


@dataclass(frozen=True, slots=True)
class StaffRecipient:
    """An active staff member to notify, with what decides the language they read."""

    staff_id: int
    channel: str
    user_id: str
    #: the language of the member linked to the same chat account, if any
    member_locale: str | None
    #: the language picked on that chat account, else the platform's hint for it
    language_code: str | None
    reachable: bool


class OutboxReads:
    _s: AsyncSession

    async def pending_count(self, channel: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage).where(is_pending())
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return int((await self._s.execute(query)).scalar_one())

    async def depth(self, now: datetime) -> list[ChannelDepth]:
        """Pending (due now, deferred) and failed rows per channel, by channel name: two
        counts, each over its own partial index (the sent rows are never read)."""
        box = OutboxMessage
        pending = (
            select(
                box.channel,
                func.count().filter(box.not_before <= now),
                func.count().filter(box.not_before > now),
            )
            .where(is_pending())
            .group_by(box.channel)
        )
        failed = select(box.channel, func.count()).where(is_failed()).group_by(box.channel)
        counts: dict[str, list[int]] = {}
        for channel, due, deferred in (await self._s.execute(pending)).all():
            counts[channel] = [int(due), int(deferred), 0]
        for channel, count in (await self._s.execute(failed)).all():
            counts.setdefault(channel, [0, 0, 0])[2] = int(count)
        return [ChannelDepth(c, *counts[c]) for c in sorted(counts)]

    async def has_pending(self, channel: str) -> bool:
        query = select(OutboxMessage.id).where(is_pending(), OutboxMessage.channel == channel)
        return (await self._s.execute(query.limit(1))).first() is not None

    async def staff_recipients(
        self, roles: Collection[str], branch_id: int | None = None
    ) -> list[StaffRecipient]:
        """Active staff with one of ``roles``; with ``branch_id``, that branch's staff plus
        staff with no branch (who work everywhere). Ordered by staff id."""
        if not roles:
            return []
        query = _staff_query(tuple(sorted(set(roles))), branch_id is not None)
        params: dict[str, Any] = {} if branch_id is None else {"branch_id": branch_id}
        rows = await direct.fetch_all(self._s, query, params)
        return [
            StaffRecipient(
                staff_id=row[0],
                channel=row[1],
                user_id=row[2],
                member_locale=row[3],
                language_code=row[4],
                reachable=row[5] is not False,  # no identity row yet: assume reachable
            )
            for row in rows
        ]


@cache
def _staff_query(roles: tuple[str, ...], of_branch: bool) -> Select[Any]:
    """:meth:`OutboxReads.staff_recipients`' statement, built once per set of ``roles`` (each
    a value it holds: a list's expanding parameter would be rendered per execution, which the
    driver's text cannot be); the branch (``branch_id``, when ``of_branch``) is its parameter.

    The tables' columns, not the mapped classes': a Core statement, run on the driver once the
    transaction has begun (``storage/direct.py``); and built once, not per call (every inbox
    alert and sale notice asks this)."""
    staff, identities, members = _STAFF.c, _IDENTITIES.c, _MEMBERS.c
    identity = and_(identities.channel == staff.channel, identities.user_id == staff.user_id)
    member = and_(members.id == identities.member_id, members.erased_at.is_(None))
    query = (
        select(
            staff.id,
            staff.channel,
            staff.user_id,
            members.locale,
            # a language picked with /language wins over the platform's hint
            func.coalesce(identities.chosen_locale, identities.language_code),
            identities.reachable,
        )
        .select_from(_STAFF)
        .outerjoin(_IDENTITIES, identity)
        .outerjoin(_MEMBERS, member)
        .where(staff.active.is_(True), or_(*(staff.role == role for role in roles)))
        .order_by(staff.id)
    )
    if of_branch:
        branch = bindparam("branch_id", type_=staff.branch_id.type)
        query = query.where(or_(staff.branch_id == branch, staff.branch_id.is_(None)))
    return query
