"""/campaign power ID AMOUNT: the hold-out that would let ``/stats`` detect an uplift of AMOUNT
baht per member, for the audience a send would reach now (the preview's numbers: the same
eligibility, and the same regression-adjusted spread of the members' past spending).

The preview's button (``cmpp:<id>``, :mod:`handlers.staff.campaigns.power_button`) asks for
the amount instead: the next message is read as it (flow ``cmpt``), until a valid amount comes
or the flow expires."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Final

from bot.core.errors import NotFound
from bot.core.ids import row_id
from bot.core.messages import Reply
from bot.i18n import format_baht
from handlers.context import Context
from handlers.staff.acting import StaffAct
from handlers.staff.campaigns.preview import Reach, measure_reach
from shop.campaigns.uplift import holdout_for, minimum_detectable_effect, residual_variance
from shop.inputs import MAX_MONEY, typed_baht
from storage.models import Campaign

FLOW: Final = "cmpt"


async def _campaign(ctx: Context, raw: str) -> Campaign:
    campaign_id = row_id(raw)
    campaign = None if campaign_id is None else await ctx.uow.campaigns.get(campaign_id)
    if campaign is None:
        raise NotFound("campaign.not_found", id=raw or "?")
    return campaign


async def power_pressed(ctx: Context) -> list[Reply]:
    """``cmpp:<id>``: ask for the uplift to size the hold-out for (managers and owners)."""
    campaign = await _campaign(ctx, ctx.args)
    ctx.begin(FLOW, "target", {"id": campaign.id})
    return [ctx.reply("campaign.power_ask", id=campaign.id)]


async def power_step(ctx: Context) -> list[Reply]:
    """The typed amount of the ``cmpt`` flow; a bad one is asked for again."""
    assert ctx.state is not None
    text = ctx.inbound.text.strip()
    if parse_amount(text) is None:
        return [bad_amount(ctx)]
    campaign = await _campaign(ctx, str(ctx.state.data.get("id", "")))
    ctx.finish()
    return await power(ctx, campaign, text)


def parse_amount(text: str) -> Decimal | None:
    """The target uplift, a positive amount of baht ("30", "฿30", "1,500.50": read by
    :func:`shop.inputs.typed_baht`, so at most ``MAX_MONEY``); None otherwise. The chat's
    command, its button's flow and the console's preview all read it here."""
    amount = typed_baht(text)
    return amount if amount is not None and amount > 0 else None


def bad_amount(ctx: StaffAct) -> Reply:
    """Why a typed target uplift was refused: what one must look like."""
    return ctx.reply("campaign.power_bad_amount", max=format_baht(MAX_MONEY, ctx.locale))


async def power(ctx: Context, campaign: Campaign, amount_text: str) -> list[Reply]:
    """The hold-out size for the uplift the owner typed, or why none would do."""
    if not amount_text.strip():
        return [ctx.reply("campaign.power_usage")]
    amount = parse_amount(amount_text)
    if amount is None:
        return [bad_amount(ctx)]
    return [holdout_answer(ctx, campaign, await measure_reach(ctx, campaign), amount)]


def holdout_answer(ctx: StaffAct, campaign: Campaign, reach: Reach, amount: Decimal) -> Reply:
    """The hold-out that detects ``amount`` per member among the audience ``reach`` measured
    (the chat's ``/campaign power`` and the console's preview both answer with this)."""
    days = campaign.attribution_days
    if reach.past.y == 0:
        return ctx.reply("campaign.power_no_sales", days=days)
    measured = reach.recipients + reach.holdout
    variance = residual_variance(reach.past)
    target = format_baht(amount, ctx.locale)
    needed = holdout_for(variance, measured, float(amount))
    if needed is None:
        half = measured // 2
        best = minimum_detectable_effect(variance, measured - half, half)
        shown = format_baht(Decimal(round(best)), ctx.locale) if math.isfinite(best) else "—"
        return ctx.reply("campaign.power_impossible", target=target, measured=measured, best=shown)
    return ctx.reply(
        "campaign.power_needed",
        target=target,
        measured=measured,
        holdout=needed,
        pct=math.ceil(needed * 100 / measured),
        current=campaign.holdout_pct,
        id=campaign.id,
    )
