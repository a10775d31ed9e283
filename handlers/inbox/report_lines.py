"""The service lines of ``/report``: mean stars per branch and the inbox's mean first-response
time, both over the report's last :data:`storage.reports.ACTIVE_DAYS` shop days."""

from __future__ import annotations

from datetime import timedelta

from handlers.context import Context
from handlers.staff.inbox import waited
from storage.reports import active_since


async def service_lines(ctx: Context, branch_id: int | None = None) -> list[str]:
    """Rating per branch (answered in the window) and response time (threads opened in it);
    with ``branch_id``, that branch's only (its threads and those of no branch, as its
    manager's inbox lists them)."""
    now = ctx.now
    since = active_since(now, ctx.settings.tz)
    lines: list[str] = []
    ratings = [
        rating
        for rating in await ctx.uow.feedback.by_branch(since, now + timedelta(microseconds=1))
        if branch_id is None or rating.branch_id == branch_id
    ]
    for rating in ratings:
        branch = await ctx.uow.branches.get(rating.branch_id)
        name = "?" if branch is None else (branch.name_th if ctx.locale == "th" else branch.name_en)
        lines.append(
            ctx.tn(
                "feedback.report_line",
                rating.answers,
                branch=name,
                average=f"{rating.average:.1f}",
                low=rating.low,
            )
        )
    if not ratings:
        lines.append(ctx.t("feedback.report_none"))
    answered, seconds = await ctx.uow.inbox.response_seconds(
        since, now + timedelta(microseconds=1), branch_id
    )
    if seconds is None:
        lines.append(ctx.t("inbox2.report_none"))
    else:
        lines.append(ctx.tn("inbox2.report_line", answered, wait=waited(ctx, seconds)))
    return lines
