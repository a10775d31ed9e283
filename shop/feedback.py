"""Visit feedback's rules: which sales are asked about and when, the star buttons, a low rating.

Setting ``feedback``: ``{"enabled": true, "after_hours": 3, ...}``. A sale is asked about once,
``after_hours`` after it was made, never when voided or without a member; sales more than
:data:`LOOKBACK` past their due time are left alone (a shop switching feedback on is not asked
about last year's visits). The member answers with one of the :data:`STARS` buttons, whose
action is ``fb:<feedback id>:<stars>`` (:class:`bot.core.keys.FeedbackRating`);
:data:`LOW_RATING` or less alerts the staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.core.keys import FEEDBACK_RATING
from storage.models import Branch, Feedback
from storage.uow import UnitOfWork

SETTINGS_KEY: Final = "feedback"
DEFAULT_AFTER_HOURS: Final = 3
LOOKBACK: Final = timedelta(days=2)
#: the namespace of the star buttons' actions
ACTIONS: Final = FEEDBACK_RATING
#: the ratings a member can give
STARS: Final = range(1, 6)
#: a rating at or below this alerts the owners and the branch's managers
LOW_RATING: Final = 2


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """A feedback row just opened for a sale, and the branch the visit was to."""

    feedback: Feedback
    branch: Branch


def settings_of(value: dict[str, Any] | None) -> tuple[bool, timedelta]:
    """(asking is on, how long after a sale the question is due) from the setting's value."""
    value = value or {}
    hours = float(value.get("after_hours", DEFAULT_AFTER_HOURS))
    return bool(value.get("enabled", True)), timedelta(hours=hours)


def due_window(now: datetime, after: timedelta) -> tuple[datetime, datetime]:
    """The earliest and latest moment (both included) of the sales whose question is due."""
    return now - after - LOOKBACK, now - after


async def open_feedback(
    uow: UnitOfWork, sale_id: int, asked_at: datetime
) -> FeedbackRequest | None:
    """Open the feedback row of sale ``sale_id`` (asked at ``asked_at``); None when the sale is
    not to be asked about (gone, without a member, voided) or was asked about already. Nothing
    is committed; when None comes back, the caller should not commit either."""
    sale = await uow.feedback.sale(sale_id)
    if sale is None or sale.member_id is None or sale.voided_at is not None:
        return None
    member = await uow.members.get(sale.member_id)
    branch = await uow.branches.get(sale.branch_id)
    feedback = await uow.feedback.create(sale, asked_at)
    if feedback is None or member is None or branch is None:
        return None
    return FeedbackRequest(feedback, branch)
