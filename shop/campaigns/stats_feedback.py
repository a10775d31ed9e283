"""The feedback request's own results: how many answered and the average rating.

The post-purchase feedback automation has one campaign per shop month (``automation:feedback``
+ ``2026-03``). Besides the usual campaign numbers, its ``/stats`` shows the questions that were
actually sent in that month (a ``Feedback`` row whose ``feedback:<sale>`` outbox row exists and
went out — a held-out sale has the row but no message), how many were answered, the mean stars
and the ratings of :data:`~shop.feedback.LOW_RATING` or less.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from shop.feedback import LOW_RATING
from storage.models import Campaign
from storage.uow import UnitOfWork

KIND: Final = "automation:feedback"


@dataclass(frozen=True, slots=True)
class FeedbackStats:
    asked: int
    answers: int
    #: mean stars of the answers; None without any
    average: float | None
    low: int


def period_window(period_key: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first, next month's first) of ``YYYY-MM`` in shop time."""
    year, month = (int(part) for part in period_key.split("-"))
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


async def feedback_stats(uow: UnitOfWork, campaign: Campaign, tz: ZoneInfo) -> FeedbackStats | None:
    """The answers to this month's feedback questions; None for any other campaign."""
    if campaign.kind != KIND or not campaign.period_key:
        return None
    start, end = period_window(campaign.period_key, tz)
    asked, answers, average, low = await uow.campaign_results.feedback_answers(
        start, end, LOW_RATING
    )
    return FeedbackStats(asked, answers, average, low)
