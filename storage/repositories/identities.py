from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import Insert

from storage import direct
from storage.core_writes import CoreWrites
from storage.models import ChannelIdentity, Member
from storage.repositories import joining
from storage.repositories.arrival import (
    ARRIVAL,
    IDENTITIES,
    Arrival,
    IdentityView,
    Materialiser,
    arrival_of,
    joined,
    read,
)
from storage.repositories.events import RECORD
from storage.upsert import insert_once

#: how old an identity's ``last_seen_at`` may get before an event writes it again (see
#: :meth:`Identities.arrive`); exports show it to within this much
LAST_SEEN_STEP: Final = timedelta(minutes=5)

#: the chat account of a statement with an UPDATE of chat accounts in it: there a parameter
#: named as one of their columns would be taken for a value to SET
_THIS_SEEN: Final = and_(
    IDENTITIES.c.channel == bindparam("seen_channel", type_=IDENTITIES.c.channel.type),
    IDENTITIES.c.user_id == bindparam("seen_user_id", type_=IDENTITIES.c.user_id.type),
)

#: built once: every message the shop writes to a member (a receipt, a notice) asks it
_PREFERRED: Final = (
    select(ChannelIdentity)
    .where(ChannelIdentity.member_id == bindparam("member_id"), ChannelIdentity.reachable.is_(True))
    .order_by(ChannelIdentity.last_seen_at.desc(), ChannelIdentity.id.desc())
    .limit(1)
)

_TABLE: Final = IDENTITIES
#: the arrival's usual write, built once: the account seen again (the other columns rarely move)
SEEN: Final = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("identity_id"))
    .values(last_seen_at=bindparam("now", type_=_TABLE.c.last_seen_at.type))
)

_RECORD_CTE: Final = cast(Insert, RECORD["postgresql"]).cte("recorded")
_ELSEWHERE: Final = _TABLE.alias("elsewhere")
#: PostgreSQL: the arrival's ``last_seen_at`` written in the read's statement, when the event
#: is new and :meth:`Identities.arrive`'s rule says so (stale, or another chat account of the
#: member seen since); ``elsewhere`` is the same rule's other accounts
_SEEN_CTE: Final = (
    update(_TABLE)
    .where(
        _THIS_SEEN,
        exists(select(_RECORD_CTE.c.event_key)),
        or_(
            _TABLE.c.last_seen_at <= bindparam("stale_before", type_=_TABLE.c.last_seen_at.type),
            exists().where(
                _ELSEWHERE.c.member_id == _TABLE.c.member_id,
                _ELSEWHERE.c.id != _TABLE.c.id,
                _ELSEWHERE.c.last_seen_at >= _TABLE.c.last_seen_at,
            ),
        ),
    )
    .values(last_seen_at=bindparam("seen_at", type_=_TABLE.c.last_seen_at.type))
    .returning(_TABLE.c.id)
    .cte("seen")
)
_RECORDED: Final = (
    select(
        func.count().label("fresh"),
        select(func.count()).select_from(_SEEN_CTE).scalar_subquery().label("seen"),
    )
    .select_from(_RECORD_CTE)
    .subquery("fresh")
)
#: PostgreSQL: :data:`ARRIVAL` with the event id's ``INSERT … ON CONFLICT DO NOTHING`` and the
#: ``last_seen_at`` UPDATE as data-modifying CTEs, and whether each wrote a row first: one row
#: even when the chat account does not exist yet (its columns are then NULL). The read sees
#: the rows as they were when the statement began (``last_seen_at`` before the UPDATE).
ARRIVAL_RECORDING: Final = joined(
    read(_RECORDED.c.fresh, _RECORDED.c.seen)
    .select_from(_RECORDED)
    .outerjoin(IDENTITIES, _THIS_SEEN)
)


class Identities:
    """Chat accounts, created on first contact and linked to a member at sign-up."""

    def __init__(self, session: AsyncSession, writes: CoreWrites | None = None) -> None:
        self._s = session
        #: the arrival's Core writes, which a rolled-back savepoint expires (storage/core_writes.py)
        self._writes = writes or CoreWrites(session)

    async def join(
        self,
        identity: ChannelIdentity,
        member: Member,
        consents: Sequence[Mapping[str, Any]],
    ) -> bool | None:
        """Write the new ``member`` a sign-up describes, linked to ``identity``, with its
        ``consents``, in as few statements as the database allows (``storage/repositories/
        joining.py``): whether its number was kept unlinked (another member holds it); None,
        nothing written, when the careful way must write it."""
        joined = await joining.add_member(self._s, member, identity.id, consents)
        if joined is None:
            return None
        self._writes.wrote(identity, {"member_id": member.id})
        self._writes.inserted(member)  # out of the session if a savepoint rolls it back
        return joined.held

    async def get(self, channel: str, user_id: str) -> ChannelIdentity | None:
        result = await self._s.execute(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.user_id == user_id
            )
        )
        return result.scalar_one_or_none()

    async def arrive(
        self,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None = None,
        language_code: str | None = None,
    ) -> Arrival:
        """:meth:`touch` the identity and read its member, staff account and conversation state.

        One joined SELECT instead of four (every key joined on is unique, so it yields at most
        one row), of the tables: the values come back as views (``storage.repositories.arrival``),
        and a handler that changes a row asks for the session's object (:attr:`materialiser`).
        The same SELECT reads the settings version, which the caller hands to ``uow.settings``.

        ``last_seen_at`` is written only once it is :data:`LAST_SEEN_STEP` old, or when another
        chat account of the member was seen at the same time or later: a burst of messages
        costs one UPDATE, and the account seen last still sorts first (that is where the shop
        writes to the member, see :meth:`preferred`). That UPDATE is a Core statement of its
        own (:meth:`_write`), not a change for the session to flush; on SQLite it travels with
        the next statement (``storage/along.py``).
        """
        found = await self._arrival(channel, user_id)
        return await self._arrived(found, channel, user_id, now, display_name, language_code)

    async def arrive_if_new(
        self,
        first_time: Callable[[], bool],
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None = None,
        language_code: str | None = None,
    ) -> Arrival | None:
        """:meth:`arrive` for an event whose id's INSERT travels with the arrival's read
        (``EventLog.first_time_along``): None, with nothing written, when ``first_time()``
        says the event was recorded before."""
        found = await self._arrival(channel, user_id)
        if not first_time():
            return None
        return await self._arrived(found, channel, user_id, now, display_name, language_code)

    @property
    def records_in_read(self) -> bool:
        """Whether :meth:`arrive_recording` is this database's (PostgreSQL)."""
        return self._s.get_bind().dialect.name == "postgresql"

    @property
    def materialiser(self) -> Materialiser:
        """Makes the session's objects of the rows an arrival read as views."""
        return Materialiser(self._s, self._writes)

    async def arrive_recording(
        self,
        event_key: str,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None = None,
        language_code: str | None = None,
    ) -> Arrival | None:
        """PostgreSQL: ``event_key`` recorded (``EventLog.first_time``) and :meth:`arrive`'s
        read in one statement; None, with nothing else written, when the id was recorded before.

        The INSERT waits, as alone, for a concurrent delivery of the same id to end. The read
        sees the rows as they were when the statement began, as a read just after the INSERT
        would for every event that goes on: a delivery it waited for has the same id, and ends
        here as a duplicate.

        The statement runs on the driver once the transaction has begun (``storage/direct.py``):
        an event after the first of a group commit's batch skips SQLAlchemy's execution; the
        batch's first begins the transaction through SQLAlchemy's adapter.
        """
        params = {
            "event_key": event_key,
            "processed_at": now,
            "seen_at": now,
            "seen_channel": channel,
            "seen_user_id": user_id,
            "stale_before": now - LAST_SEEN_STEP,
        }
        found = await direct.rows(self._s, ARRIVAL_RECORDING, params)
        if found is None:  # the transaction's first statement: SQLAlchemy's adapter begins it
            found = [(await self._s.execute(ARRIVAL_RECORDING, params)).one()]
        row = found[0]
        if not row[0]:  # fresh: whether the event id's INSERT wrote a row
            return None
        if row[2] is None:
            return await self._arrived(None, channel, user_id, now, display_name, language_code)
        arrival = arrival_of(row, 2)
        changes = self._changes(arrival.identity, display_name, language_code)
        identity = await self._write(arrival.identity, changes)
        if row[1]:  # seen: whether the last_seen_at UPDATE wrote a row
            identity = self._shown(identity, {"last_seen_at": now})
        return arrival._replace(identity=identity)

    async def _arrived(
        self,
        arrival: Arrival | None,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None,
        language_code: str | None,
    ) -> Arrival:
        """The rest of :meth:`arrive` once its read found ``arrival``."""
        if arrival is None:
            await self._create(channel, user_id, now, display_name, language_code)
            arrival = await self._arrival(channel, user_id)
            assert arrival is not None
            return arrival
        identity = arrival.identity
        others = arrival.others_seen_at
        recent = now - identity.last_seen_at < LAST_SEEN_STEP
        changes = self._changes(identity, display_name, language_code)
        if not recent or (others is not None and others >= identity.last_seen_at):
            changes["last_seen_at"] = now
        if not changes:
            return arrival
        return arrival._replace(identity=await self._write(identity, changes))

    @staticmethod
    def _changes(
        identity: IdentityView, display_name: str | None, language_code: str | None
    ) -> dict[str, Any]:
        """The columns :meth:`_named` would change, and their new values."""
        changes: dict[str, Any] = {}
        if display_name and identity.member_id is None and display_name != identity.display_name:
            changes["display_name"] = display_name
        if language_code and language_code != identity.language_code:
            changes["language_code"] = language_code
        return changes

    async def set_reachable(
        self, identity: IdentityView, reachable: bool, at: datetime
    ) -> IdentityView:
        """Mark the chat account (un)reachable (a block, a follow, back after a block) by what
        the person did at ``at`` (kept as ``reachability_at``), as :meth:`_write` writes: the
        view returned shows it. The caller compares ``at`` with the kept time first; the
        UPDATE compares again, so of two events of one person handled at once on PostgreSQL
        the older one, committing second, does not undo the newer."""
        changes: dict[str, Any] = {"reachability_at": at}
        if identity.reachable != reachable:
            changes["reachable"] = reachable
        kept = _TABLE.c.reachability_at
        statement = (
            update(_TABLE)
            .where(_TABLE.c.id == identity.id, or_(kept.is_(None), kept <= at))
            .values(changes)
        )
        await self._s.execute(statement)
        return self._shown(identity, changes)

    async def _write(self, identity: IdentityView, changes: dict[str, Any]) -> IdentityView:
        """Write ``changes`` with one Core UPDATE; the view returned, and the session's object
        of the row if it holds one, show them as already stored (no flush for a timestamp)."""
        if not changes:
            return identity
        if changes.keys() == {"last_seen_at"}:
            params = {"identity_id": identity.id, "now": changes["last_seen_at"]}
            # on SQLite it goes with the next statement (the handler's first, or the commit)
            await direct.write(self._s, SEEN, params)
        else:
            statement = update(_TABLE).where(_TABLE.c.id == identity.id).values(changes)
            await self._s.execute(statement)
        return self._shown(identity, changes)

    def _shown(self, identity: IdentityView, changes: dict[str, Any]) -> IdentityView:
        """``identity`` with ``changes``, which its row now has; the session's object too."""
        held = self._s.sync_session.identity_map.get(identity_key(ChannelIdentity, identity.id))
        if held is not None:
            self._writes.wrote(held, changes)
        return identity._replace(**changes)

    async def _arrival(self, channel: str, user_id: str) -> Arrival | None:
        params = {"channel": channel, "user_id": user_id}
        found = await direct.fetch_all(self._s, ARRIVAL, params)  # SQLite: on the driver
        return arrival_of(found[0]) if found else None

    async def touch(
        self,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None = None,
        language_code: str | None = None,
    ) -> ChannelIdentity:
        """The identity for (channel, user_id), created if new, with its last-seen time updated."""
        identity = await self.get(channel, user_id)
        if identity is None:
            await self._create(channel, user_id, now, display_name, language_code)
            identity = await self.get(channel, user_id)
            assert identity is not None
        else:
            self._seen(identity, now, display_name, language_code)
        return identity

    async def _create(
        self,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None,
        language_code: str | None,
    ) -> None:
        # two first events of one person may race: whoever inserts second inserts nothing
        await insert_once(
            self._s,
            ChannelIdentity,
            {
                "channel": channel,
                "user_id": user_id,
                "display_name": display_name,
                "language_code": language_code,
                "reachable": True,
                "first_seen_at": now,
                "last_seen_at": now,
            },
            ["channel", "user_id"],
        )

    @staticmethod
    def _seen(
        identity: ChannelIdentity,
        now: datetime,
        display_name: str | None,
        language_code: str | None,
    ) -> None:
        identity.last_seen_at = now
        Identities._named(identity, display_name, language_code)

    @staticmethod
    def _named(
        identity: ChannelIdentity, display_name: str | None, language_code: str | None
    ) -> None:
        if display_name and identity.member_id is None:
            identity.display_name = display_name
        if language_code:
            identity.language_code = language_code

    async def of_member(self, member_id: int) -> Sequence[ChannelIdentity]:
        result = await self._s.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.member_id == member_id)
            .order_by(ChannelIdentity.id)
        )
        return result.scalars().all()

    async def preferred(self, member_id: int) -> ChannelIdentity | None:
        """The chat account to write to a member on: reachable, most recently seen (a member
        linked on LINE and Telegram hears from the shop where they talked last)."""
        result = await self._s.execute(_PREFERRED, {"member_id": member_id})
        return result.scalar_one_or_none()
