"""Sales attributed to a campaign: per group, converters, visits, revenue and its squares.

Each audience member is measured over their own window: from the moment they joined the
audience (``enrolled_at``; owners' campaigns snapshot everyone at the start, so theirs is the
campaign's start) for ``attribution_days``, and never past ``now``. Automations enrol members
day by day over a month: a member reminded on the 20th is measured from the 20th to the 27th,
and the hold-out member drawn the same day over the same days, so the groups stay comparable.
The window's end is computed in SQL (``storage.repositories.campaign_results``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from shop.campaigns.uplift import HISTORY_MULTIPLE
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork


async def last_window_end(
    uow: UnitOfWork, campaign_id: int, start: datetime, days: int
) -> tuple[datetime, bool]:
    """The end of the last member's window (the last enrolment, or the start, + ``days``), and
    whether any member was enrolled on their own day (an automation) rather than at the
    start (an owner's campaign: everyone shares one window)."""
    last = await uow.campaign_results.last_enrolment(campaign_id)
    return max(start, last or start) + timedelta(days=days), last is not None


async def sales_by_group(
    uow: UnitOfWork,
    campaign_id: int,
    start: datetime,
    days: int,
    now: datetime,
    groups: dict[str, dict[str, object]],
    *,
    enrolled: bool = True,
) -> None:
    """Per group of measured members (not excluded): converters, visits, revenue, and the
    aggregates of the regression adjustment (per-member revenue ``y`` in the window, ``x``
    over the :data:`~shop.campaigns.uplift.HISTORY_MULTIPLE` windows of its length before it
    and ``w`` in the one window of its length before it: Σy², Σx, Σx², Σx·y, Σw, Σw², in
    baht), stored into ``groups``. ``enrolled`` False: every member's window is the
    campaign's (the query can use fixed bounds instead of computing each member's)."""
    rows = await uow.campaign_results.sales_by_group(
        campaign_id, start, days, now, enrolled=enrolled, history_days=HISTORY_MULTIPLE * days
    )
    square = float(SATANG_PER_BAHT * SATANG_PER_BAHT)
    for group, converters, visits, total, total_sq, x, x_sq, xy, w, w_sq in rows:
        values = groups[group]
        values["converters"] = int(converters)
        values["visits"] = int(visits or 0)
        values["revenue"] = (Decimal(int(total or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))
        values["revenue_sq_satang"] = float(total_sq or 0)
        values["earlier"] = float(x or 0) / SATANG_PER_BAHT
        values["earlier_sq"] = float(x_sq or 0) / square
        values["earlier_cross"] = float(xy or 0) / square
        values["same_length"] = float(w or 0) / SATANG_PER_BAHT
        values["same_length_sq"] = float(w_sq or 0) / square
