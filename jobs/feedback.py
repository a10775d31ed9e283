"""The post-purchase feedback job: ask members how their visit was, N hours after the sale.

Setting ``feedback`` (shop settings): ``{"enabled": true, "after_hours": 3, "holdout_pct": 0}``.
A sale is asked about once (``Feedback.sale_id`` is unique; the row and its outbox message, key
``feedback:<sale id>``, are written in one transaction), never when voided, never for an erased
member, and never during the quiet hours: a question that falls due then is queued for the end
of the quiet hours. Sales older than ``shop.feedback.LOOKBACK`` past their due time are left
alone (a shop switching feedback on is not asked about last year's visits).

It is a service message about a visit the member made, not marketing: no marketing consent is
needed (members who used /stop still get it), but only members are asked and an unreachable
chat account gets nothing (its audience row says ``unreachable``).

Stats: the questions sent in one shop month form one campaign (``automation:feedback`` +
``2026-03``), so ``/stats`` and ``/campaigns`` show them like any campaign, with the answers and
the average rating. A question is a notice, so its hold-out is 0% by default (``holdout_pct``,
at most 50%). A member is counted once per month, on their first sale: a second sale that month
is still asked about (its own key) when they are a recipient, and not when they are held out.
A held-out sale still gets its ``Feedback`` row (never answered), which marks it as dealt with.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.keys import FeedbackRating
from bot.core.messages import Button, Reply
from bot.i18n import t
from jobs.app import App
from jobs.automations.common import (
    MAX_HOLDOUT,
    NOTICE_HOLDOUT,
    audience_group,
    enrol,
    period_campaign,
    send_again,
)
from shop.contact_policy import load_policy, next_send_time
from shop.feedback import (
    SETTINGS_KEY,
    STARS,
    due_window,
    open_feedback,
    settings_of,
)
from storage.models import Branch, Feedback
from storage.repositories.members import audience_of
from storage.uow import UnitOfWork

NAME: Final = "feedback"


def holdout_of(value: dict[str, Any] | None) -> int:
    """The hold-out share of the feedback questions (0% unless the owner set one)."""
    pct = int((value or {}).get("holdout_pct", NOTICE_HOLDOUT))
    return max(0, min(pct, MAX_HOLDOUT))


def question(locale: str, feedback_id: int, branch: Branch) -> Reply:
    """The question about a visit to ``branch``, in ``locale``, with its star buttons."""
    name = branch.name_th if locale == "th" else branch.name_en
    stars = tuple(Button("★" * n, FeedbackRating(feedback_id, n).format()) for n in STARS)
    return Reply(text=t(locale, "feedback.ask", branch=name), buttons=stars)


async def run_feedback(app: App) -> dict[str, int]:
    """Queue the question for every sale that has come due; idempotent (see module doc)."""
    now, tz = app.clock.now(), app.settings.tz
    async with app.uow() as uow:
        setting = await uow.settings.get(SETTINGS_KEY)
        enabled, after = settings_of(setting)
        if not enabled:
            return {"asked": 0, "skipped": 0}
        policy = await load_policy(uow.settings)
        due = await uow.feedback.due_sales(*due_window(now, after))
    counts: Counter[str] = Counter()
    send_at = next_send_time(now, tz, policy)
    for sale_id in due:
        async with app.uow() as uow:
            request = await open_feedback(uow, sale_id, send_at)
            if request is None:
                continue
            feedback, branch = request.feedback, request.branch
            outcome = await _ask(uow, feedback, branch, now, send_at, tz, holdout_of(setting))
            counts[outcome] += 1
            await uow.commit()
    if counts["asked"] and app.bus.on_commit is not None:
        app.bus.on_commit()  # wake the dispatcher
    result = {"asked": counts["asked"], "skipped": counts["skipped"]}
    if counts["holdout"]:
        result["holdout"] = counts["holdout"]
    return result


async def _ask(
    uow: UnitOfWork,
    feedback: Feedback,
    branch: Branch,
    now: datetime,
    send_at: datetime,
    tz: ZoneInfo,
    holdout: int,
) -> str:
    """Count the sale in its month's campaign and queue the question unless held out:
    ``asked``, ``holdout`` or ``skipped`` (unreachable)."""
    month = send_at.astimezone(tz)
    campaign = await period_campaign(
        uow,
        NAME,
        f"{month.year}-{month.month:02d}",
        now,
        message=t("th", "feedback.ask", branch="{branch}"),
        holdout_pct=holdout,
    )
    key = f"feedback:{feedback.sale_id}"
    group = await audience_group(uow, campaign, feedback.member_id)
    if group == "holdout":
        return "holdout"
    if group is not None:
        sent = await send_again(
            uow,
            feedback.member_id,
            key,
            lambda locale: question(locale, feedback.id, branch),
            now,
            not_before=send_at,
        )
        return "asked" if sent else "skipped"
    counts = await enrol(
        uow,
        campaign,
        audience_of([feedback.member_id]),
        now=now,
        tz=tz,
        promotional=False,
        render=lambda _row, locale: question(locale, feedback.id, branch),
        key_of=lambda _member: key,
        not_before=send_at,
    )
    if counts["recipients"]:
        return "asked"
    return "holdout" if counts["holdout"] else "skipped"
