"""Who a campaign or an automation is about: member queries and the audience rows read from them,
and questions a preview asks of an audience (how it splits by channel and consent, who is in it,
what its members spent).

A *member query* is a select of ``members.id`` (a compiled segment, today's birthdays, the
lapsed members...). It is handed around unexecuted so that the contact policy's eligibility
query can be built over it and the audience read in one statement. Never commits.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy import (
    BigInteger,
    Float,
    Row,
    Select,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import type_coerce

from storage.models import (
    Branch,
    Campaign,
    CampaignMember,
    ChannelIdentity,
    Member,
    OutboxMessage,
    PointsEntry,
    Sale,
)
from storage.repositories.withdrawals import CANCELLED as WITHDRAWN
from storage.types import SATANG_PER_BAHT

#: a select of ``members.id``, not yet executed
MemberQuery: TypeAlias = Select[Any]
#: the same, as the segment compiler and the preview name it
AudienceQuery: TypeAlias = MemberQuery


@dataclass(frozen=True)
class RevenueSpread:
    """Members' revenue as SQL aggregates, in baht: count, sum and sum of squares; with the
    revenue of an earlier window (``earlier``), its sum of squares and the sum of products."""

    members: int
    total: float
    total_sq: float
    earlier: float = 0.0
    earlier_sq: float = 0.0
    cross: float = 0.0
    #: the revenue of the part of the earlier window from ``matching_since`` on, and its sum
    #: of squares (the whole earlier window without ``matching_since``)
    matching: float = 0.0
    matching_sq: float = 0.0


@dataclass(frozen=True, slots=True)
class AudienceRow:
    """One member of an audience: where to write to them, why not (``excluded``), and what
    their message may show."""

    member_id: int
    channel: str | None
    user_id: str | None
    excluded: str | None
    name: str | None
    locale: str | None
    points_balance: int
    #: the member's spend over the tier window (0 when the caller did not ask for it)
    spend: Decimal
    branch_th: str | None
    branch_en: str | None
    #: the tier the review last gave the member (``members.tier``; with ``spend``, the tier
    #: they hold: :meth:`shop.loyalty.LoyaltyRules.held_tier`)
    held: str | None = None


@dataclass(frozen=True, slots=True)
class MemberSpend:
    """A member's held tier and their spend since a given moment."""

    id: int
    tier: str | None
    spend: Decimal


def _money(value: Any) -> Decimal:
    """A Money sum: already baht as Decimal; 0 (an int, or None) when there were no sales."""
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def audience_query(eligibility: Select[Any], *, spend_since: datetime | None) -> Select[Any]:
    """Eligibility rows (``member_id, channel, user_id, excluded``) with what rendering needs,
    in member id order; ``spend`` is the member's non-voided spend since ``spend_since`` (a sum
    over each member's sales: only ``{tier}`` needs it) and 0 without it."""
    elig = eligibility.subquery("elig")
    spend: Any = literal(0)
    if spend_since is not None:
        spend = (
            select(func.coalesce(func.sum(Sale.amount), 0))
            .where(Sale.member_id == elig.c.member_id, Sale.voided_at.is_(None))
            .where(Sale.occurred_at >= spend_since)
            .scalar_subquery()
        )
    return (
        select(
            elig.c.member_id,
            elig.c.channel,
            elig.c.user_id,
            elig.c.excluded,
            Member.name,
            Member.locale,
            Member.points_balance,
            spend.label("spend"),
            Member.tier,
            Branch.name_th,
            Branch.name_en,
        )
        .join(Member, Member.id == elig.c.member_id)
        .outerjoin(Branch, Branch.id == Member.home_branch_id)
        .order_by(elig.c.member_id)
    )


def _born_on(day: date) -> Any:
    """Members whose birthday falls on ``day`` (with 29 Feb on 28 Feb when needed)."""
    month, dom = extract("month", Member.birthday), extract("day", Member.birthday)
    on_day = and_(month == day.month, dom == day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        return or_(on_day, and_(month == 2, dom == 29))
    return on_day


class Audiences:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def rows(
        self, eligibility: Select[Any], *, spend_since: datetime | None = None
    ) -> list[AudienceRow]:
        """The audience rows of an eligibility query (see :func:`audience_query`)."""
        result = await self._s.execute(audience_query(eligibility, spend_since=spend_since))
        return [
            AudienceRow(
                member_id=row.member_id,
                channel=row.channel,
                user_id=row.user_id,
                excluded=row.excluded,
                name=row.name,
                locale=row.locale,
                points_balance=row.points_balance,
                spend=_money(row.spend),
                branch_th=row.name_th,
                branch_en=row.name_en,
                held=row.tier,
            )
            for row in result.all()
        ]

    @staticmethod
    def members(member_ids: Collection[int]) -> MemberQuery:
        """The member query of exactly these members."""
        return select(Member.id).where(Member.id.in_(list(member_ids)))

    @staticmethod
    def not_in_campaign(members: MemberQuery, campaign_id: int) -> MemberQuery:
        """``members`` less those already in the campaign's audience."""
        return members.where(
            ~exists().where(
                CampaignMember.campaign_id == campaign_id, CampaignMember.member_id == Member.id
            )
        )

    async def any(self, members: MemberQuery) -> bool:
        """Whether the member query finds anyone."""
        return await self._s.scalar(select(members.exists())) is True

    async def page(self, members: MemberQuery, after: int, limit: int) -> list[int]:
        """The next ``limit`` member ids of ``members`` above ``after``, in id order (keyset
        paging: asking the whole audience query for "the next page" would re-rank every chat
        account of the shop per page)."""
        segment = members.subquery("segment")
        member_id = next(iter(segment.c))
        result = await self._s.execute(
            select(member_id).where(member_id > after).order_by(member_id).limit(limit)
        )
        return list(result.scalars())

    @staticmethod
    def born_on(day: date, not_in_kind: str, joined_before: datetime) -> MemberQuery:
        """Members born on ``day`` who joined before ``joined_before`` (the caller's end of the
        birthday: a birthday that had passed when the member joined waits for next year), not
        yet greeted for ``day``'s year by a campaign of kind ``not_in_kind``: its period key
        starts with the year (``2026-03``), or names the birthday's year after a slash
        (``2027-01/2026``: a late greeting in January of a December birthday, counted for the
        year of the birthday, not of the greeting)."""
        key = Campaign.period_key
        of_year = or_(and_(key.like(f"{day.year}-%"), ~key.like("%/%")), key.like(f"%/{day.year}"))
        greeted_this_year = exists().where(
            CampaignMember.member_id == Member.id,
            CampaignMember.campaign_id == Campaign.id,
            Campaign.kind == not_in_kind,
            of_year,
        )
        return select(Member.id).where(
            Member.birthday.is_not(None),
            Member.erased_at.is_(None),
            Member.joined_at < joined_before,
            _born_on(day),
            ~greeted_this_year,
        )

    @staticmethod
    def lapsed(
        visited_before: datetime, tried_before: datetime, max_tries: int, kind: str
    ) -> MemberQuery:
        """Members whose last sale is before ``visited_before``, tried fewer than ``max_tries``
        times (by campaigns of ``kind``) since it and not since ``tried_before`` (the caller
        turns its days into shop midnights: days are the shop's calendar days).

        A try is a message the member was sent or is still to be sent, or a hold-out draw (the
        hold-out is treated as the recipients are); an enrolment that sent nothing is none: left
        out by the contact policy (``/stop``, no consent, blocked) or withdrawn before it left
        (``/stop``, a visit), so a member who comes back to the chat is not kept waiting."""
        last_sale = (
            select(func.max(Sale.occurred_at))
            .where(Sale.member_id == Member.id, Sale.voided_at.is_(None))
            .scalar_subquery()
        )
        withdrawn = exists().where(
            OutboxMessage.dedupe_key == CampaignMember.outbox_key,
            OutboxMessage.status == WITHDRAWN,
        )
        tries = (
            select(CampaignMember.enrolled_at)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.member_id == Member.id, Campaign.kind == kind)
            .where(CampaignMember.excluded.is_(None), ~withdrawn)
        )
        tries_this_lapse = (
            select(func.count())
            .select_from(tries.where(CampaignMember.enrolled_at > last_sale).subquery())
            .scalar_subquery()
        )
        last_try = (
            select(func.max(CampaignMember.enrolled_at))
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.member_id == Member.id, Campaign.kind == kind)
            .where(CampaignMember.excluded.is_(None), ~withdrawn)
            .scalar_subquery()
        )
        return select(Member.id).where(
            Member.erased_at.is_(None),
            last_sale.is_not(None),
            last_sale < visited_before,
            tries_this_lapse < max_tries,
            or_(last_try.is_(None), last_try < tried_before),
        )

    async def points_holders(
        self, earned_from: datetime | None, earned_before: datetime
    ) -> list[int]:
        """Members with a positive balance and a credit earned in ``[earned_from,
        earned_before)``, in id order."""
        credit = exists().where(
            PointsEntry.member_id == Member.id,
            PointsEntry.delta > 0,
            PointsEntry.earned_at < earned_before,
            *([PointsEntry.earned_at >= earned_from] if earned_from is not None else []),
        )
        result = await self._s.execute(
            select(Member.id)
            .where(Member.points_balance > 0, Member.erased_at.is_(None), credit)
            .order_by(Member.id)
        )
        return list(result.scalars().all())

    async def spends(self, since: datetime) -> Sequence[MemberSpend]:
        """Every member not erased, with their held tier and non-voided spend since ``since``."""
        spend = (
            select(func.coalesce(func.sum(Sale.amount), 0))
            .where(Sale.member_id == Member.id, Sale.voided_at.is_(None), Sale.occurred_at >= since)
            .scalar_subquery()
        )
        result = await self._s.execute(
            select(Member.id, Member.tier, spend.label("spend"))
            .where(Member.erased_at.is_(None))
            .order_by(Member.id)
        )
        return [MemberSpend(r.id, r.tier, _money(r.spend)) for r in result.all()]

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

    async def page_rows(self, rows: Select[Any], after_id: int, limit: int) -> Sequence[Row[Any]]:
        """Up to ``limit`` rows of ``rows`` (ordered by its first column, a member id) whose
        first column is above ``after_id``: one page of a keyset walk."""
        query = rows.where(rows.selected_columns[0] > after_id).limit(limit)
        found: Sequence[Row[Any]] = (await self._s.execute(query)).all()
        return found

    async def revenue_per_member(
        self,
        eligible: Select[Any],
        since: datetime,
        until: datetime,
        earlier_since: datetime | None = None,
        matching_since: datetime | None = None,
    ) -> RevenueSpread:
        """Each eligible member's (``excluded`` is null) non-voided revenue in ``[since,
        until)`` and, with ``earlier_since``, in ``[earlier_since, since)`` — and of that, in
        ``[matching_since, since)``; members who bought nothing count as 0. ``eligible`` has
        the columns ``member_id`` and ``excluded``."""
        elig = eligible.subquery("elig")
        satang = type_coerce(Sale.amount, BigInteger)
        bought = and_(
            Sale.member_id == elig.c.member_id,
            Sale.voided_at.is_(None),
            Sale.occurred_at >= (earlier_since or since),
            Sale.occurred_at < until,
        )
        inside = Sale.occurred_at >= since
        matching = and_(Sale.occurred_at >= (matching_since or earlier_since or since), ~inside)
        per_member = (
            select(
                func.coalesce(func.sum(case((inside, satang), else_=0)), 0).label("satang"),
                func.coalesce(func.sum(case((inside, 0), else_=satang)), 0).label("earlier"),
                func.coalesce(func.sum(case((matching, satang), else_=0)), 0).label("matching"),
            )
            .select_from(elig)
            .outerjoin(Sale, bought)
            .where(elig.c.excluded.is_(None))
            .group_by(elig.c.member_id)
            .subquery()
        )
        y = cast(per_member.c.satang, Float)
        x = cast(per_member.c.earlier, Float)
        w = cast(per_member.c.matching, Float)
        sums = (y, y * y, x, x * x, x * y, w, w * w)
        row = (await self._s.execute(select(func.count(), *map(func.sum, sums)))).one()
        n, total, total_sq, earlier, earlier_sq, cross, same, same_sq = (float(v or 0) for v in row)
        square = SATANG_PER_BAHT**2
        return RevenueSpread(
            int(n),
            total / SATANG_PER_BAHT,
            total_sq / square,
            earlier / SATANG_PER_BAHT,
            earlier_sq / square,
            cross / square,
            same / SATANG_PER_BAHT,
            same_sq / square,
        )
