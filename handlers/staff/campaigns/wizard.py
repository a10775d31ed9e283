"""/campaign new: the campaign wizard (flow ``cmpw``), managers and owners.

segment → message → offer (kind button, then value, title, dates, weekdays/hours, branches,
cost per redemption) → button label → now or a scheduled time → hold-out % → saved as a
draft. Each typed answer is checked when given; a bad one gets its reason and the same
question again (a domain error rolls back nothing but that answer). The router re-checks
the role on every step of the flow. "-" skips an optional answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from bot.core.graphemes import fit
from bot.core.ids import row_id
from bot.core.keys import CommandAction
from bot.core.messages import Button, Reply
from bot.i18n import format_datetime
from handlers.branch_pages import SEGMENTS, button_page, page_number
from handlers.context import Context
from handlers.staff.acting import StaffAct
from shop.campaigns.drafts import (
    MAX_NAME,
    check_branches,
    check_label,
    check_title,
    parse_holdout,
    parse_when,
)
from shop.campaigns.launch import segment_env
from shop.campaigns.offers import (
    KINDS,
    Offer,
    parse_cost,
    parse_dates,
    parse_value,
    parse_window,
)
from shop.campaigns.templates import validate_template
from shop.profile import line_price
from storage.models import Campaign
from storage.segments import BUILTIN_SEGMENTS, audience_size, resolve_segment
from wording.offers import default_title

FLOW: Final = "cmpw"
SKIP: Final = "-"


async def start_wizard(ctx: Context) -> list[Reply]:
    """``/campaign new [NAME]``: begins the wizard at the segment question."""
    name = ctx.args.strip()[:MAX_NAME]
    ctx.begin(FLOW, "segment", {"name": name})
    return [await _ask_segment(ctx)]


async def _ask_segment(ctx: Context, page: int = 0) -> Reply:
    """The segment question: the built-in groups, then every saved segment by name, 20 buttons
    a page (a shop's 7th or 40th segment is one press away, as its first). A saved segment's
    button names it by id: a name of any length fits the platforms' button data."""
    builtins = [
        Button(ctx.t(f"segment.builtin_{name}")[:20], f"{FLOW}:seg:{name}")
        for name in BUILTIN_SEGMENTS
    ]
    saved = [Button(fit(s.name, 20), f"{FLOW}:sid:{s.id}") for s in await ctx.uow.segments.all()]
    shown = button_page(ctx, [*builtins, *saved], page, lambda n: f"{FLOW}:segp:{n}", SEGMENTS)
    text = "\n".join(filter(None, (ctx.t("campaign.ask_segment"), shown.note)))
    return Reply(text=text, buttons=(*shown.buttons, _cancel(ctx)))


def _cancel(ctx: Context) -> Button:
    return Button(ctx.t("campaign.cancel_button"), f"{FLOW}:cancel")


def _typed(ctx: Context) -> str:
    return ctx.inbound.text.strip()


async def wizard_step(ctx: Context) -> list[Reply]:
    """One answer of the wizard (typed or a ``cmpw:`` button), for managers and owners
    (checked by the router)."""
    assert ctx.state is not None
    if ctx.inbound.action and ctx.args == "cancel":
        ctx.finish()
        return [ctx.reply("campaign.wizard_cancelled")]
    step = ctx.state.step
    handler = _STEPS.get(step)
    if handler is None:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    return await handler(ctx)


async def _segment(ctx: Context) -> list[Reply]:
    if ctx.inbound.action and ctx.args.startswith("segp:"):
        return [await _ask_segment(ctx, page_number(ctx.args.removeprefix("segp:")))]
    text = await _pressed_segment(ctx) if ctx.inbound.action else _typed(ctx)
    if not text:
        return [await _ask_segment(ctx)]
    env = await segment_env(ctx.uow, ctx.now, ctx.settings.tz)
    rule, members = await resolve_segment(ctx.uow, text, env)
    size = await audience_size(ctx.uow, members)
    name = ctx.state.data.get("name") if ctx.state else ""
    ctx.goto("message", segment=text[:40], rule=rule, name=name or text[:MAX_NAME])
    return [
        Reply(text=ctx.tn("campaign.segment_chosen", size, segment=text)),
        ctx.reply("campaign.ask_message", _cancel(ctx)),
    ]


async def _pressed_segment(ctx: Context) -> str:
    """The segment a button names: a built-in group's name, or a saved segment's by its id
    ("" when it was deleted since the question was asked, or the button is forged)."""
    if ctx.args.startswith("seg:"):
        return ctx.args.removeprefix("seg:")
    segment_id = row_id(ctx.args.removeprefix("sid:")) if ctx.args.startswith("sid:") else None
    segment = None if segment_id is None else await ctx.uow.segments.get(segment_id)
    return "" if segment is None else segment.name


async def _message(ctx: Context) -> list[Reply]:
    if ctx.inbound.action:
        return [ctx.reply("campaign.ask_message", _cancel(ctx))]
    ctx.goto("offer", message=validate_template(_typed(ctx)))
    return [_ask_offer(ctx)]


def _ask_offer(ctx: Context) -> Reply:
    buttons = [
        Button(ctx.t(f"campaign.offer_kind_{kind}"), f"{FLOW}:offer:{kind}") for kind in KINDS
    ]
    buttons.append(Button(ctx.t("campaign.offer_none"), f"{FLOW}:offer:none"))
    return Reply(text=ctx.t("campaign.ask_offer"), buttons=(*buttons, _cancel(ctx)))


async def _offer(ctx: Context) -> list[Reply]:
    kind = ctx.args.removeprefix("offer:") if ctx.inbound.action else ""
    if kind == "none":
        ctx.goto("label", offer=None)
        return [_ask_label(ctx)]
    if kind not in KINDS:
        return [_ask_offer(ctx)]
    ctx.goto("offer_value", offer={"kind": kind})
    return [ctx.reply(f"campaign.ask_value_{kind}", _cancel(ctx))]


def _offer_data(ctx: Context) -> dict[str, Any]:
    assert ctx.state is not None
    data = ctx.state.data.get("offer")
    assert isinstance(data, dict)
    # a copy: the loaded state must not change in place, or saving it would see no change
    return dict(data)


async def _offer_value(ctx: Context) -> list[Reply]:
    offer = _offer_data(ctx)
    offer["value"] = parse_value(str(offer["kind"]), _typed(ctx))
    ctx.goto("offer_title", offer=offer)
    suggested = default_title(offer["kind"], offer["value"], ctx.locale)
    return [ctx.reply("campaign.ask_offer_title", _cancel(ctx), title=suggested)]


async def _offer_title(ctx: Context) -> list[Reply]:
    offer, text = _offer_data(ctx), _typed(ctx)
    if text != SKIP:
        offer["title_th"] = offer["title_en"] = check_title(text)
    ctx.goto("offer_dates", offer=offer)
    return [ctx.reply("campaign.ask_offer_dates", _cancel(ctx))]


async def _offer_dates(ctx: Context) -> list[Reply]:
    offer, text = _offer_data(ctx), _typed(ctx)
    if text != SKIP:
        start, end = parse_dates(text, ctx.now.astimezone(ctx.settings.tz).date())
        offer["valid_from"], offer["valid_until"] = start.isoformat(), end.isoformat()
    ctx.goto("offer_window", offer=offer)
    return [ctx.reply("campaign.ask_offer_window", _cancel(ctx))]


async def _offer_window(ctx: Context) -> list[Reply]:
    offer, text = _offer_data(ctx), _typed(ctx)
    if text != SKIP:
        weekdays, hours = parse_window(text)
        offer["weekdays"], offer["hours"] = list(weekdays), list(hours) if hours else None
    ctx.goto("offer_branches", offer=offer)
    return [ctx.reply("campaign.ask_offer_branches", _cancel(ctx))]


async def _offer_branches(ctx: Context) -> list[Reply]:
    offer, text = _offer_data(ctx), _typed(ctx)
    if text != SKIP:
        offer["branches"] = await check_branches(ctx.uow, text)
    ctx.goto("offer_cost", offer=offer)
    return [ctx.reply("campaign.ask_offer_cost", _cancel(ctx))]


async def _offer_cost(ctx: Context) -> list[Reply]:
    offer, text = _offer_data(ctx), _typed(ctx)
    offer["cost"] = str(parse_cost(text)) if text != SKIP else "0"
    Offer.from_json(offer)  # the whole offer must load before it is kept
    ctx.goto("label", offer=offer)
    return [_ask_label(ctx)]


def _ask_label(ctx: Context) -> Reply:
    return ctx.reply("campaign.ask_label", _cancel(ctx), default=ctx.t("campaign.default_button"))


async def _label(ctx: Context) -> list[Reply]:
    text = _typed(ctx)
    if ctx.inbound.action:
        return [_ask_label(ctx)]
    if text != SKIP:
        check_label(text)
    ctx.goto("when", label=None if text == SKIP else text)
    return [_ask_when(ctx)]


def _ask_when(ctx: Context) -> Reply:
    return ctx.reply(
        "campaign.ask_when", Button(ctx.t("campaign.when_now"), f"{FLOW}:when:now"), _cancel(ctx)
    )


async def _when(ctx: Context) -> list[Reply]:
    if ctx.inbound.action and ctx.args == "when:now":
        ctx.goto("holdout", when=None)
    elif ctx.inbound.action:
        return [_ask_when(ctx)]
    else:
        ctx.goto("holdout", when=parse_when(_typed(ctx), ctx.now, ctx.settings.tz).isoformat())
    return [ctx.reply("campaign.ask_holdout", Button("10%", f"{FLOW}:hold:10"), _cancel(ctx))]


async def _holdout(ctx: Context) -> list[Reply]:
    raw = ctx.args.removeprefix("hold:") if ctx.inbound.action else _typed(ctx)
    holdout = parse_holdout(raw)
    assert ctx.state is not None
    campaign = await save_draft(ctx, ctx.state.data, holdout)
    ctx.finish()
    when = (
        format_datetime(campaign.scheduled_at, ctx.locale, ctx.settings.tz)
        if campaign.scheduled_at
        else ctx.t("campaign.when_now")
    )
    return [
        ctx.reply(
            "campaign.saved",
            Button(
                ctx.t("campaign.preview_button"),
                CommandAction("campaign", f"preview {campaign.id}").format()[:64],
            ),
            id=campaign.id,
            name=campaign.name,
            when=when,
            holdout=campaign.holdout_pct,
        )
    ]


async def save_draft(ctx: StaffAct, data: dict[str, Any], holdout: int) -> Campaign:
    """The wizard's answers (``segment``, ``rule``, ``message``, ``offer``, ``label``, ``when``,
    ``name``, each checked already) saved as a draft, audited ``campaign.created``."""
    offer = data.get("offer")
    when = data.get("when")
    campaign = await ctx.uow.campaigns.add(
        Campaign(
            name=str(data.get("name") or data["segment"])[:MAX_NAME],
            kind="campaign",
            segment_name=str(data["segment"])[:40],
            rule=str(data["rule"]),
            message=str(data["message"]),
            button_label=data.get("label"),
            offer=offer,
            holdout_pct=holdout,
            status="draft",
            scheduled_at=datetime.fromisoformat(when) if when else None,
            line_message_price=await line_price(ctx.uow),
            offer_cost=Decimal(str(offer.get("cost", "0"))) if offer else Decimal(0),
            created_by=ctx.actor,
            created_at=ctx.now,
        )
    )
    await ctx.uow.audit.record(
        ctx.actor, "campaign.created", ctx.now, channel=ctx.channel, campaign_id=campaign.id
    )
    return campaign


_STEPS: Final = {
    "segment": _segment,
    "message": _message,
    "offer": _offer,
    "offer_value": _offer_value,
    "offer_title": _offer_title,
    "offer_dates": _offer_dates,
    "offer_window": _offer_window,
    "offer_branches": _offer_branches,
    "offer_cost": _offer_cost,
    "label": _label,
    "when": _when,
    "holdout": _holdout,
}
