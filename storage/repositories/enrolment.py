"""A launch's enrolment, set-based: the audience staged page by page from the eligibility query
(hold-out drawn in SQL, exclusion reason from the contact policy's ``CASE``), then its audience
rows and its recipients' outbox rows written by ``INSERT … SELECT`` from the stage.

The stage is a temporary table of the connection (created once, emptied per launch): the
eligibility query, the costly part, runs once per member however many statements read it, and
all of it runs before the launch writes its first outbox row, so PostgreSQL plans each page's
frequency-cap count on the outbox as it was (planned on an outbox grown by the launch's own
earlier pages beyond its statistics, the count scanned the whole table per member). It never
leaves the transaction's connection and is never committed anywhere. Never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable

from storage.holdout import held_sql
from storage.models import CampaignMember, Member, OutboxMessage, table_of
from storage.models.base import Id
from storage.repositories.audiences import MemberQuery
from storage.repositories.outbox_reads import PENDING

STAGE: Final = Table(
    "launch_stage",
    MetaData(),
    # the rowid on SQLite: the stage is read back in member id order at no cost
    Column("member_id", Id, primary_key=True, autoincrement=False),
    Column("channel", String(16)),
    Column("user_id", String(64)),
    Column("excluded", String(16)),
    Column("held", Boolean, nullable=False),
    Column("locale", String(5)),
    prefixes=["TEMPORARY"],
)
#: a member drawn as a recipient who may be written to: they get the outbox row
_SENT = and_(STAGE.c.excluded.is_(None), STAGE.c.held.is_(False))


@dataclass(frozen=True, slots=True)
class Staged:
    """One staged page: recipients (to be queued), held out, and left out per reason."""

    recipients: int = 0
    holdout: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)
    #: the ``members.locale`` values of the recipients (None included when there is one)
    locales: tuple[str | None, ...] = ()


class Enrolments:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        self._ready = False

    @property
    def _dialect(self) -> str:
        return self._s.get_bind().dialect.name

    @property
    def looks_up_accounts(self) -> bool:
        """Whether the eligibility query should find each member's chat account by a
        look-up per member (SQLite) rather than a ranking (PostgreSQL): see
        ``storage.eligibility.eligibility_query``."""
        return self._dialect != "postgresql"

    async def page_end(self, members: MemberQuery, after: int, size: int) -> int | None:
        """The last member id of the next page of ``size`` members of ``members`` above
        ``after`` (keyset paging), None when there are no more."""
        segment = members.subquery("segment")
        member_id = next(iter(segment.c))
        page = (
            select(member_id.label("id"))
            .where(member_id > after)
            .order_by(member_id)
            .limit(size)
            .subquery("page")
        )
        found = await self._s.scalar(select(func.max(page.c.id)))
        return None if found is None else int(found)

    @staticmethod
    def between(members: MemberQuery, after: int, last: int) -> MemberQuery:
        """The members of ``members`` with ids in ``(after, last]``."""
        segment = members.subquery("segment")
        member_id = next(iter(segment.c))
        return select(member_id).where(member_id > after, member_id <= last)

    async def open(self) -> None:
        """An empty stage for a new launch."""
        connection = await self._s.connection()
        if not self._ready:
            await connection.execute(CreateTable(STAGE, if_not_exists=True))
            self._ready = True
        await connection.execute(delete(STAGE))

    async def stage(self, eligibility: Select[Any], campaign_id: int, holdout_pct: int) -> None:
        """Add the rows of ``eligibility`` (``member_id, channel, user_id, excluded``: one
        page of the audience) to the stage, each with the campaign's hold-out draw and the
        member's locale."""
        elig = eligibility.subquery("elig")
        held = held_sql(self._dialect, campaign_id, elig.c.member_id, holdout_pct)
        rows = select(
            elig.c.member_id, elig.c.channel, elig.c.user_id, elig.c.excluded, held, Member.locale
        ).join(Member, Member.id == elig.c.member_id)
        await self._s.execute(insert(STAGE).from_select(list(STAGE.c.keys()), rows))

    async def staged(self) -> Staged:
        """What the stage holds: recipients, held out, left out per reason, and the
        recipients' languages (one pass over it)."""
        counts = await self._s.execute(
            select(STAGE.c.excluded, STAGE.c.held, STAGE.c.locale, func.count()).group_by(
                STAGE.c.excluded, STAGE.c.held, STAGE.c.locale
            )
        )
        excluded: Counter[str] = Counter()
        recipients = holdout = 0
        locales: dict[str | None, None] = {}
        for reason, is_held, locale, n in counts.all():
            if reason is not None:
                excluded[reason] += n
            elif is_held:
                holdout += n
            else:
                recipients += n
                locales[locale] = None
        return Staged(recipients, holdout, dict(excluded), tuple(locales))

    async def add_audience(self, campaign_id: int, key_prefix: str) -> None:
        """The staged page's audience rows: every member, hold-out drawn, reason recorded, the
        outbox key (``key_prefix`` and the member id) of those written to."""
        key = _key(key_prefix)
        rows = select(
            literal(campaign_id),
            STAGE.c.member_id,
            case((STAGE.c.held, literal("holdout")), else_=literal("recipient")),
            STAGE.c.channel,
            STAGE.c.excluded,
            case((_SENT, key), else_=null()),
        )
        columns = ["campaign_id", "member_id", "group", "channel", "excluded", "outbox_key"]
        await self._s.execute(insert(table_of(CampaignMember)).from_select(columns, rows))

    async def queue_same(
        self,
        key_prefix: str,
        locale: str | None,
        payload: dict[str, Any],
        now: datetime,
        *,
        promotional: bool,
        not_before: datetime,
    ) -> int:
        """Outbox rows for the staged recipients whose locale is ``locale``, each with
        ``payload`` and a retry key of its own; returns how many."""
        box = table_of(OutboxMessage)
        same = STAGE.c.locale.is_(None) if locale is None else STAGE.c.locale == locale
        rows = select(
            _key(key_prefix),
            STAGE.c.channel,
            STAGE.c.user_id,
            STAGE.c.member_id,
            literal(promotional),
            literal(payload, box.c.payload.type),
            literal(PENDING),
            literal(0),
            self._uuid(),
            literal(not_before, box.c.not_before.type),
            literal(now, box.c.created_at.type),
            literal(0),
        ).where(_SENT, same)
        columns = ["dedupe_key", "channel", "user_id", "member_id", "promotional", "payload"]
        columns += ["status", "attempts", "retry_key", "not_before", "created_at", "priority"]
        result = await self._s.execute(insert(box).from_select(columns, rows))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def recipients_query(after: int, last: int) -> Select[Any]:
        """The staged recipients with ids in ``(after, last]`` as eligibility rows, for
        :meth:`Audiences.rows` (a message rendered member by member, a page at a time)."""
        columns = (STAGE.c.member_id, STAGE.c.channel, STAGE.c.user_id, STAGE.c.excluded)
        return select(*columns).where(_SENT, STAGE.c.member_id > after, STAGE.c.member_id <= last)

    async def clear(self) -> None:
        """Empty the stage (the connection goes back to the pool with it)."""
        if self._ready:
            await self._s.execute(delete(STAGE))

    def _uuid(self) -> Any:
        """A random UUID per row (on SQLite its 32 hex digits, which ``uuid.UUID`` reads as
        the LINE sender does: a Python function called per row would cost several times the
        row's insert)."""
        if self._dialect == "postgresql":
            return cast(func.gen_random_uuid(), String)
        return func.lower(func.hex(func.randomblob(16)))


def _key(prefix: str) -> Any:
    return literal(prefix, String) + cast(STAGE.c.member_id, String)
