"""What a campaign did, as SQL aggregates over its audience snapshot (``campaign_members``):
delivery, responses, redemptions, sales in each member's window, blamed blocks, and the
feedback request's answers. ``shop.campaigns.stats`` turns these counts into the numbers
``/stats`` shows; this module only counts. Read-only.

A member's sales window ends ``days`` after they joined the audience, computed in SQL, and date
arithmetic differs between the databases: PostgreSQL adds an interval; SQLite keeps these
columns as ``YYYY-MM-DD HH:MM:SS.ffffff`` text, and ``strftime`` with a ``+N days`` modifier
gives the same layout (to the millisecond), so the text comparison orders them as the moments
they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement, type_coerce

from storage.models import (
    Campaign,
    CampaignMember,
    ContactEvent,
    Coupon,
    Feedback,
    OutboxMessage,
    Sale,
)
from storage.repositories.outbox_reads import PENDING
from storage.types import UTCDateTime


def plus_days(moment: ColumnElement[Any], days: int, dialect: str) -> ColumnElement[Any]:
    """``moment`` + ``days`` whole days, in SQL (see the module doc)."""
    if dialect == "postgresql":
        return moment + literal_column(f"INTERVAL '{int(days)} days'")
    return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"{int(days):+d} days")


class CampaignResults:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def audience_counts(self, campaign_id: int) -> Sequence[tuple[Any, ...]]:
        """Rows ``(group, excluded reason, members, clicked, claimed)``."""
        cm = CampaignMember
        rows = await self._s.execute(
            select(
                cm.group,
                cm.excluded,
                func.count(),
                func.count(cm.clicked_at),
                func.count(cm.claimed_at),
            )
            .where(cm.campaign_id == campaign_id)
            .group_by(cm.group, cm.excluded)
        )
        return [tuple(row) for row in rows]

    async def delivery_counts(self, campaign_id: int, end: datetime) -> Sequence[tuple[Any, ...]]:
        """Rows ``(group, outbox status, channel, count)`` of the audience's outbox rows as of
        the moment ``end``: a message sent after it was still waiting then (``pending``)."""
        cm, box = CampaignMember, OutboxMessage
        later = box.sent_at > literal(end, UTCDateTime)
        status = case((later, literal(PENDING, String)), else_=box.status)
        rows = await self._s.execute(
            select(cm.group, status, box.channel, func.count())
            .select_from(cm)
            .join(box, box.dedupe_key == cm.outbox_key)
            .where(cm.campaign_id == campaign_id)
            .group_by(cm.group, status, box.channel)
        )
        return [tuple(row) for row in rows]

    async def redemptions(
        self, campaign_id: int, start: datetime, days: int, end: datetime
    ) -> Sequence[tuple[Any, ...]]:
        """Rows ``(group, redeemed in the member's attribution window, redeemed after it)`` of
        the campaign's coupons redeemed by the moment ``end``: only the first count is the
        campaign's cost in ``/stats``."""
        cm = CampaignMember
        since = func.coalesce(cm.enrolled_at, literal(start, UTCDateTime))
        until = plus_days(since, days, self._s.get_bind().dialect.name)
        late = Coupon.redeemed_at >= until
        rows = await self._s.execute(
            select(
                cm.group,
                func.count(case((~late, Coupon.id))),
                func.count(case((late, Coupon.id))),
            )
            .select_from(Coupon)
            .join(cm, and_(cm.campaign_id == Coupon.campaign_id, cm.member_id == Coupon.member_id))
            .where(
                Coupon.campaign_id == campaign_id,
                Coupon.status == "redeemed",
                Coupon.redeemed_at <= literal(end, UTCDateTime),
            )
            .group_by(cm.group)
        )
        return [tuple(row) for row in rows]

    async def overlapping_recipients(
        self, campaign_id: int, start: datetime, end: datetime, recipient: str
    ) -> int:
        """How many of the campaign's measured ``recipient`` members another campaign also
        messaged (as its recipient) between ``start`` and ``end``. The other campaigns that
        ran then are found first (a few rows of ``campaigns``): with none, no audience row is
        read."""
        others = list(
            await self._s.scalars(
                select(Campaign.id).where(
                    Campaign.id != campaign_id,
                    Campaign.started_at < end,
                    (Campaign.finished_at.is_(None)) | (Campaign.finished_at >= start),
                )
            )
        )
        if not others:
            return 0
        cm, other = CampaignMember, aliased(CampaignMember)
        other_campaign = aliased(Campaign)
        reached = func.coalesce(other.enrolled_at, other_campaign.started_at)
        also = exists().where(
            other.member_id == cm.member_id,
            other.campaign_id.in_(others),
            other.group == recipient,
            other_campaign.id == other.campaign_id,
            reached >= start,
            reached < end,
        )
        count = await self._s.scalar(
            select(func.count()).where(
                cm.campaign_id == campaign_id, cm.group == recipient, cm.excluded.is_(None), also
            )
        )
        return int(count or 0)

    async def blame_candidates(
        self,
        campaign_id: int,
        start: datetime,
        now: datetime,
        *,
        holdout: str,
        kinds: Sequence[str],
    ) -> Sequence[tuple[Any, ...]]:
        """Rows ``(group, member_id, kind, reached, occurred_at)``: the audience's contact
        events of ``kinds`` between ``start`` and ``now``, at or after this campaign reached
        the member (its message's ``sent_at``; the start for the ``holdout`` group) and with
        no other campaign's message sent to them in between. ``reached`` comes back untyped
        on SQLite (a string or a naive value)."""
        cm, box, event = CampaignMember, OutboxMessage, ContactEvent
        other, other_box = aliased(CampaignMember), aliased(OutboxMessage)
        reached = case(
            (cm.group == holdout, literal(start, UTCDateTime)),
            else_=box.sent_at,
        )
        later_campaign = exists().where(
            other.member_id == cm.member_id,
            other.campaign_id != campaign_id,
            other_box.dedupe_key == other.outbox_key,
            other_box.status == "sent",
            other_box.sent_at > reached,
            other_box.sent_at <= event.occurred_at,
        )
        rows = await self._s.execute(
            select(cm.group, cm.member_id, event.kind, reached, event.occurred_at)
            .select_from(cm)
            .outerjoin(box, and_(box.dedupe_key == cm.outbox_key, box.status == "sent"))
            .join(event, event.member_id == cm.member_id)
            .where(
                cm.campaign_id == campaign_id,
                event.kind.in_(kinds),
                event.occurred_at >= start,
                event.occurred_at <= now,
                event.occurred_at >= reached,
                ~later_campaign,
            )
        )
        return [tuple(row) for row in rows]

    async def last_enrolment(self, campaign_id: int) -> datetime | None:
        """When the last member joined the campaign's audience (None without any)."""
        last = await self._s.scalar(
            select(func.max(CampaignMember.enrolled_at)).where(
                CampaignMember.campaign_id == campaign_id
            )
        )
        return last

    async def sales_by_group(
        self,
        campaign_id: int,
        start: datetime,
        days: int,
        now: datetime,
        *,
        enrolled: bool = True,
        history_days: int | None = None,
    ) -> Sequence[tuple[Any, ...]]:
        """Rows ``(group, converters, visits, revenue satang, Σy², Σx, Σx², Σx·y, Σw, Σw²)``
        of the measured members (not excluded), each over their own window: from joining the
        audience (or ``start``) for ``days``, never past ``now``. ``y`` is a member's revenue
        in that window, ``x`` in the ``history_days`` (default ``days``) just before it and
        ``w`` in the ``days`` just before it, all in satang (floats): the regression
        adjustment's aggregates. One grouped query over one pass of the sales. ``enrolled``
        False (nobody has an ``enrolled_at``: an owner's campaign) uses the campaign's own
        window as fixed bounds instead of computing each member's per sale."""
        cm = CampaignMember
        satang = type_coerce(Sale.amount, BigInteger)
        history = days if history_days is None else history_days
        before, matching, since, until = self._windows(start, days, history, enrolled)
        inside = Sale.occurred_at >= since
        same_length = and_(Sale.occurred_at >= matching, ~inside)
        per_member = (
            select(
                cm.member_id.label("member_id"),
                # 1, not Sale.id: every column read is in the sales covering index, so
                # PostgreSQL scans the index alone instead of fetching each sale's row
                func.count(case((inside, 1))).label("visits"),
                func.sum(case((inside, satang), else_=0)).label("satang"),
                func.sum(case((inside, 0), else_=satang)).label("earlier"),
                func.sum(case((same_length, satang), else_=0)).label("same_length"),
            )
            .select_from(cm)
            .join(Sale, Sale.member_id == cm.member_id)
            .where(
                cm.campaign_id == campaign_id,
                cm.excluded.is_(None),
                Sale.voided_at.is_(None),
                Sale.occurred_at >= before,
                Sale.occurred_at < until,
                Sale.occurred_at < now,
            )
            .group_by(cm.member_id)
            .subquery()
        )
        y = cast(per_member.c.satang, Float)
        x = cast(per_member.c.earlier, Float)
        w = cast(per_member.c.same_length, Float)
        sums = (per_member.c.visits, per_member.c.satang, y * y, x, x * x, x * y, w, w * w)
        rows = await self._s.execute(
            select(cm.group, func.count(case((per_member.c.visits > 0, 1))), *map(func.sum, sums))
            .select_from(cm)
            .join(per_member, per_member.c.member_id == cm.member_id)
            .where(cm.campaign_id == campaign_id)
            .group_by(cm.group)
        )
        return [tuple(row) for row in rows]

    def _windows(
        self, start: datetime, days: int, history: int, enrolled: bool
    ) -> tuple[ColumnElement[Any], ...]:
        """(history's start, same-length earlier window's start, window's start, window's end)
        of each audience member."""
        if not enrolled:
            return tuple(
                literal(start + timedelta(days=shift), UTCDateTime)
                for shift in (-history, -days, 0, days)
            )
        dialect = self._s.get_bind().dialect.name
        since = func.coalesce(CampaignMember.enrolled_at, literal(start, UTCDateTime))
        return (
            plus_days(since, -history, dialect),
            plus_days(since, -days, dialect),
            since,
            plus_days(since, days, dialect),
        )

    async def feedback_answers(
        self, start: datetime, end: datetime, low_rating: int
    ) -> tuple[int, int, float | None, int]:
        """``(asked, answered, mean stars, answers of low_rating or less)`` of the feedback
        questions asked in ``[start, end)`` whose ``feedback:<sale>`` message went out."""
        key = literal("feedback:") + cast(Feedback.sale_id, String)
        answered = Feedback.rating.is_not(None)
        row = (
            await self._s.execute(
                select(
                    func.count(),
                    func.count(Feedback.rating),
                    func.avg(cast(Feedback.rating, Float)),
                    func.sum(case((answered & (Feedback.rating <= low_rating), 1), else_=0)),
                )
                .select_from(Feedback)
                .join(OutboxMessage, OutboxMessage.dedupe_key == key)
                .where(
                    Feedback.asked_at >= start,
                    Feedback.asked_at < end,
                    OutboxMessage.status == "sent",
                )
            )
        ).one()
        asked, answers, average, low = row
        return int(asked), int(answers), float(average) if answers else None, int(low or 0)
