"""Sales attributed to a campaign: per group, converters, visits, revenue and its squares.

Each audience member is measured over their own window: from the moment they joined the
audience (``enrolled_at``; owners' campaigns snapshot everyone at the start, so theirs is the
campaign's start) for ``attribution_days``, and never past ``now``. Automations enrol members
day by day over a month: a member reminded on the 20th is measured from the 20th to the 27th,
and the hold-out member drawn the same day over the same days, so the groups stay comparable.

The window's end is computed in SQL, and date arithmetic differs between the databases:
PostgreSQL adds an interval; SQLite keeps these columns as ``YYYY-MM-DD HH:MM:SS.ffffff`` text,
and ``strftime`` with a ``+N days`` modifier gives the same layout (to the millisecond), so the
text comparison orders them as the moments they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, cast, func, literal, literal_column, select
from sqlalchemy.sql.expression import ColumnElement, type_coerce

from storage.models import CampaignMember, Sale
from storage.types import SATANG_PER_BAHT, UTCDateTime
from storage.uow import UnitOfWork


def plus_days(moment: ColumnElement[Any], days: int, dialect: str) -> ColumnElement[Any]:
    """``moment`` + ``days`` whole days, in SQL (see the module doc)."""
    if dialect == "postgresql":
        return moment + literal_column(f"INTERVAL '{int(days)} days'")
    return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"+{int(days)} days")


async def last_window_end(
    uow: UnitOfWork, campaign_id: int, start: datetime, days: int
) -> datetime:
    """The end of the last member's window: the last enrolment (or the start) + ``days``."""
    last = await uow.session.scalar(
        select(func.max(CampaignMember.enrolled_at)).where(
            CampaignMember.campaign_id == campaign_id
        )
    )
    return max(start, last or start) + timedelta(days=days)


async def sales_by_group(
    uow: UnitOfWork,
    campaign_id: int,
    start: datetime,
    days: int,
    now: datetime,
    groups: dict[str, dict[str, object]],
) -> None:
    """Per group of measured members (not excluded): converters, visits, revenue and the sum
    of squared per-member revenue (satang), stored into ``groups``."""
    cm = CampaignMember
    satang = type_coerce(Sale.amount, BigInteger)
    since = func.coalesce(cm.enrolled_at, literal(start, UTCDateTime))
    until = plus_days(since, days, uow.session.get_bind().dialect.name)
    per_member = (
        select(
            cm.member_id.label("member_id"),
            func.count(Sale.id).label("visits"),
            func.sum(satang).label("satang"),
        )
        .select_from(cm)
        .join(Sale, Sale.member_id == cm.member_id)
        .where(
            cm.campaign_id == campaign_id,
            cm.excluded.is_(None),
            Sale.voided_at.is_(None),
            Sale.occurred_at >= since,
            Sale.occurred_at < until,
            Sale.occurred_at < now,
        )
        .group_by(cm.member_id)
        .subquery()
    )
    revenue = cast(per_member.c.satang, Float)
    rows = await uow.session.execute(
        select(
            cm.group,
            func.count(per_member.c.member_id),
            func.sum(per_member.c.visits),
            func.sum(per_member.c.satang),
            func.sum(revenue * revenue),
        )
        .select_from(cm)
        .join(per_member, per_member.c.member_id == cm.member_id)
        .where(cm.campaign_id == campaign_id)
        .group_by(cm.group)
    )
    for group, converters, visits, total, total_sq in rows:
        values = groups[group]
        values["converters"] = int(converters)
        values["visits"] = int(visits or 0)
        values["revenue"] = (Decimal(int(total or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))
        values["revenue_sq_satang"] = float(total_sq or 0)
