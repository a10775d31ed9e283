"""/history: the member's last sales and points entries, in the shop's time zone."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Reply
from bot.i18n import format_baht, format_datetime
from handlers.context import Context
from handlers.customer.common import branch_name
from storage.models import Branch

SALES_SHOWN: Final = 10
POINTS_SHOWN: Final = 10


async def show_history(ctx: Context) -> list[Reply]:
    """/history (members only): last 10 non-voided sales and the most recent points entries."""
    assert ctx.member is not None
    uow, tz, locale = ctx.uow, ctx.settings.tz, ctx.locale
    sales = await uow.members.sales(ctx.member.id, limit=SALES_SHOWN)
    entries = await uow.points.latest(ctx.member.id, limit=POINTS_SHOWN)  # newest first
    if not sales and not entries:
        return [ctx.reply("history.empty")]

    branches: dict[int, Branch | None] = {}
    lines = [ctx.t("history.sales_title")]
    for sale in sales:
        if sale.branch_id not in branches:
            branches[sale.branch_id] = await uow.branches.get(sale.branch_id)
        lines.append(
            ctx.t(
                "history.sale_line",
                when=format_datetime(sale.occurred_at, locale, tz),
                branch=branch_name(branches[sale.branch_id], locale),
                amount=format_baht(sale.amount, locale),
            )
        )
    if not sales:
        lines.append(ctx.t("history.no_sales"))
    lines.append("")
    lines.append(ctx.t("history.points_title"))
    for entry in entries:
        key = f"history.reason_{entry.reason}"
        reason = ctx.t(key)
        lines.append(
            ctx.t(
                "history.points_line",
                when=format_datetime(entry.created_at, locale, tz),
                delta=f"{entry.delta:+,}",
                reason=entry.reason if reason == key else reason,
            )
        )
    return [Reply(text="\n".join(lines))]
