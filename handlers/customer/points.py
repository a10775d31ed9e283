"""/points: balance, tier and the way to the next one, and points about to expire."""

from __future__ import annotations

from bot.core.messages import Reply
from bot.i18n import format_baht, format_date, format_points
from handlers.context import Context
from handlers.customer.common import tier_label
from shop.loyalty import loyalty_status


async def show_points(ctx: Context) -> list[Reply]:
    """/points (members only). Tiers count the rolling 12-month spend of non-voided sales."""
    member = ctx.member_view
    assert member is not None
    status = await loyalty_status(ctx.uow, member.id, ctx.now, ctx.settings.tz)
    lines = [
        ctx.t("points.balance", points=format_points(status.balance)),
        ctx.t("points.tier", tier=tier_label(ctx, status.tier)),
    ]
    if status.next_tier is not None:
        lines.append(
            ctx.t(
                "points.to_next",
                amount=format_baht(status.to_next, ctx.locale),
                tier=tier_label(ctx, status.next_tier),
            )
        )
    else:
        lines.append(ctx.t("points.top_tier"))
    if status.expiring > 0:
        until = status.expiring_by.astimezone(ctx.settings.tz).date()
        lines.append(
            ctx.t(
                "points.expiring",
                points=format_points(status.expiring),
                date=format_date(until, ctx.locale),
            )
        )
    return [Reply(text="\n".join(lines))]
