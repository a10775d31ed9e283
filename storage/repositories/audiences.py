"""Questions about a compiled audience (``storage.segments``): how it splits by channel and
consent, who is in it, one page of its send rows, what its members spent. Read-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import BigInteger, Float, Row, Select, and_, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import type_coerce

from storage.models import ChannelIdentity, Member, Sale
from storage.types import SATANG_PER_BAHT

#: a query of member ids, as ``storage.segments.compile_rule`` builds it
AudienceQuery: TypeAlias = Select[Any]


@dataclass(frozen=True)
class RevenueSpread:
    """Members' revenue as SQL aggregates, in baht: count, sum and sum of squares."""

    members: int
    total: float
    total_sq: float


class Audiences:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def reachable_by_channel(self, members: AudienceQuery) -> dict[str, int]:
        """Members of the audience reachable on each channel, by channel name."""
        query = (
            select(ChannelIdentity.channel, func.count(distinct(ChannelIdentity.member_id)))
            .where(ChannelIdentity.member_id.in_(members), ChannelIdentity.reachable.is_(True))
            .group_by(ChannelIdentity.channel)
            .order_by(ChannelIdentity.channel)
        )
        return {str(c): int(n) for c, n in (await self._s.execute(query)).all()}

    async def by_marketing_consent(self, members: AudienceQuery) -> dict[bool, int]:
        """Members of the audience who did (True) and did not (False) opt in to marketing."""
        query = (
            select(Member.marketing_opt_in, func.count())
            .where(Member.id.in_(members))
            .group_by(Member.marketing_opt_in)
        )
        return {bool(c): int(n) for c, n in (await self._s.execute(query)).all()}

    async def first_members(
        self, members: AudienceQuery, limit: int
    ) -> list[tuple[str | None, str]]:
        """``(name, member code)`` of the audience's first ``limit`` members by id."""
        query = (
            select(Member.name, Member.member_code)
            .where(Member.id.in_(members))
            .order_by(Member.id)
            .limit(limit)
        )
        return [(n, str(c)) for n, c in (await self._s.execute(query)).all()]

    async def page(self, rows: Select[Any], after_id: int, limit: int) -> Sequence[Row[Any]]:
        """Up to ``limit`` rows of ``rows`` (ordered by its first column, a member id) whose
        first column is above ``after_id``: one page of a keyset walk."""
        query = rows.where(rows.selected_columns[0] > after_id).limit(limit)
        found: Sequence[Row[Any]] = (await self._s.execute(query)).all()
        return found

    async def revenue_per_member(
        self, eligible: Select[Any], since: datetime, until: datetime
    ) -> RevenueSpread:
        """Each eligible member's (``excluded`` is null) non-voided revenue in ``[since,
        until)``; members who bought nothing count as 0. ``eligible`` has the columns
        ``member_id`` and ``excluded``."""
        elig = eligible.subquery("elig")
        satang = type_coerce(Sale.amount, BigInteger)
        bought = and_(
            Sale.member_id == elig.c.member_id,
            Sale.voided_at.is_(None),
            Sale.occurred_at >= since,
            Sale.occurred_at < until,
        )
        per_member = (
            select(func.coalesce(func.sum(satang), 0).label("satang"))
            .select_from(elig)
            .outerjoin(Sale, bought)
            .where(elig.c.excluded.is_(None))
            .group_by(elig.c.member_id)
            .subquery()
        )
        revenue = cast(per_member.c.satang, Float)
        n, total, total_sq = (
            await self._s.execute(
                select(func.count(), func.sum(per_member.c.satang), func.sum(revenue * revenue))
            )
        ).one()
        return RevenueSpread(
            int(n), int(total or 0) / SATANG_PER_BAHT, float(total_sq or 0) / SATANG_PER_BAHT**2
        )
