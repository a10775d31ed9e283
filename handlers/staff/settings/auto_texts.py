"""/settings → Automations → Message and gift: what the birthday greeting, the win-back offer
and the points-expiry reminder say (in Thai and in English), and the gift the two promotions
give.

A message is a template with the campaigns' placeholders, checked by the campaigns' own
validator (:func:`shop.settings_values.parse_automation_text`); ``-`` goes back to the built-in
wording. A gift is an offer kind (chosen by button) and its value (typed, checked like a
campaign's offer). Both live in the automation's entry of the ``automations`` setting, which
the jobs read at each run. The page's preview renders the message for the shop's newest member
(a sample member when the shop has none) exactly as the job would. Each change is audited.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from bot.i18n import LOCALES
from handlers.context import Context
from handlers.staff.acting import StaffAct
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.automation_settings import set_gift, set_text
from shop.automations import (
    automation_config,
    gift_of,
    own_text,
    shop_day,
)
from shop.campaigns.offers import KINDS, Offer
from shop.campaigns.templates import PLACEHOLDERS
from shop.loyalty import add_months, load_rules
from shop.profile import shop_names
from shop.settings_values import GIFT_AUTOMATIONS, TEXT_AUTOMATIONS
from storage.repositories.audiences import AudienceRow
from wording.automations import (
    OwnWords,
    automation_offer,
    birthday_greeting,
    expiry_reminder,
    winback_offer_message,
)
from wording.offers import default_title

FLOW: Final = "setv"
TEXT_STEP: Final = "autotext"
GIFT_STEP: Final = "autogift"


def _gift_title(ctx: Context, config: dict[str, Any], name: str) -> str:
    kind, value = gift_of(config, name)
    return default_title(kind, value, ctx.locale)


async def show_texts(ctx: Context, name: str) -> list[Reply]:
    """The automation's messages (both languages) and gift, with their buttons."""
    if name not in TEXT_AUTOMATIONS:
        return [ctx.reply("error.button_expired")]
    config = await automation_config(ctx.uow, name)
    lines = [ctx.t("prefs.texts_title", label=ctx.t(f"auto.label_{name}"))]
    for locale in LOCALES:
        text = own_text(config, locale) or ctx.t("prefs.text_builtin")
        lines.append(ctx.t(f"prefs.text_line_{locale}", text=text))
    buttons = [
        Button(ctx.t(f"prefs.edit_text_{locale}"), settings_code("ate", name, locale))
        for locale in LOCALES
    ]
    if name in GIFT_AUTOMATIONS:
        lines.append(ctx.t("prefs.gift_line", gift=_gift_title(ctx, config, name)))
        buttons.append(Button(ctx.t("prefs.edit_gift"), settings_code("atg", name)))
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    lines.append(ctx.t("prefs.placeholders_hint", allowed=allowed))
    buttons.append(Button(ctx.t("prefs.preview"), settings_code("atp", name)))
    buttons.append(Button(ctx.t("settings.back"), settings_code("aup", name)))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


async def start_text(ctx: Context, name: str, locale: str) -> list[Reply]:
    """``set:ate:NAME:LOCALE``: ask for the message in that language."""
    if name not in TEXT_AUTOMATIONS or locale not in LOCALES:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, TEXT_STEP, {"name": name, "locale": locale})
    return [_ask_text(ctx, name, locale)]


def _ask_text(ctx: Context, name: str, locale: str) -> Reply:
    text = ctx.t(f"prefs.ask_text_{locale}", label=ctx.t(f"auto.label_{name}"))
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def choose_gift(ctx: Context, name: str) -> list[Reply]:
    """``set:atg:NAME``: the kinds of gift, one button each."""
    if name not in GIFT_AUTOMATIONS:
        return [ctx.reply("error.button_expired")]
    buttons = [
        Button(ctx.t(f"campaign.offer_kind_{kind}"), settings_code("atk", name, kind))
        for kind in KINDS
    ]
    buttons.append(Button(ctx.t("settings.back"), settings_code("atx", name)))
    return [Reply(text=ctx.t("prefs.ask_gift_kind"), buttons=tuple(buttons))]


async def start_gift(ctx: Context, name: str, kind: str) -> list[Reply]:
    """``set:atk:NAME:KIND``: ask for the gift's value."""
    if name not in GIFT_AUTOMATIONS or kind not in KINDS:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, GIFT_STEP, {"name": name, "kind": kind})
    return [_ask_gift(ctx, kind)]


def _ask_gift(ctx: Context, kind: str) -> Reply:
    text = ctx.t("prefs.ask_gift_value", kind=ctx.t(f"campaign.offer_kind_{kind}"))
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def value_step(ctx: Context) -> list[Reply]:
    """A typed message or gift value: checked (a refusal explains and asks again), stored,
    audited, then previewed."""
    assert ctx.state is not None
    data, step = ctx.state.data, ctx.state.step
    name, locale, kind = str(data.get("name")), str(data.get("locale")), str(data.get("kind"))
    valid = name in TEXT_AUTOMATIONS and locale in LOCALES
    if step == GIFT_STEP:
        valid = name in GIFT_AUTOMATIONS and kind in KINDS
    if not valid:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    if ctx.inbound.action:
        return [ctx.reply("settings.type_value")]
    by = changed_by(ctx)
    try:
        if step == GIFT_STEP:
            await set_gift(ctx.uow, by, name, kind, ctx.inbound.text)
        else:
            await set_text(ctx.uow, by, name, locale, ctx.inbound.text)
    except InvalidInput as error:
        again = _ask_gift(ctx, kind) if step == GIFT_STEP else _ask_text(ctx, name, locale)
        return [ctx.reply(error.key, **error.params), again]
    ctx.finish()
    shown = locale if step == TEXT_STEP else None
    return [
        ctx.reply("settings.saved"),
        await preview(ctx, name, shown),
        *await show_texts(ctx, name),
    ]


async def example_row(ctx: StaffAct, branch_id: int | None = None) -> AudienceRow:
    """The shop's newest member (with ``branch_id``, of that home branch: a manager of one
    branch sees no other's members) as an audience row, or a sample member in the owner's
    language when there is none."""
    member = await ctx.uow.members.newest(branch_id)
    if member is None:
        name = ctx.t("prefs.sample_name")
        return AudienceRow(0, None, None, None, name, ctx.locale, 120, Decimal(0), None, None)
    rules = await load_rules(ctx.uow)
    spend = await ctx.uow.members.spend_since(
        member.id, add_months(ctx.now, -rules.tier_window_months)
    )
    branch = await ctx.uow.branches.get(member.home_branch_id) if member.home_branch_id else None
    return AudienceRow(
        member.id,
        None,
        None,
        None,
        member.name,
        member.locale,
        member.points_balance,
        spend,
        branch.name_th if branch else None,
        branch.name_en if branch else None,
        held=member.tier,
    )


async def preview(ctx: Context, name: str, locale: str | None = None) -> Reply:
    """The message as the example member reads it (in ``locale``, else their language)."""
    if name not in TEXT_AUTOMATIONS:
        return ctx.reply("error.button_expired")
    who, message = await example_message(ctx, name, locale)
    header = ctx.t("prefs.preview_for", name=who or "-")
    return Reply(text=header + "\n\n" + message.text)


async def example_message(
    ctx: StaffAct, name: str, locale: str | None = None, row: AudienceRow | None = None
) -> tuple[str | None, Reply]:
    """(the example member's name, the automation ``name``'s message as they get it, in
    ``locale`` or else their language), exactly as the job renders it; ``row`` is the example
    member when the caller has read it already."""
    config = await automation_config(ctx.uow, name)
    row = row or await example_row(ctx)
    shown = locale or row.locale or ctx.locale
    texts = {loc: own_text(config, loc) for loc in LOCALES}
    tz = ctx.settings.tz
    shop = await shop_names(ctx.uow, ctx.settings.shop_name)
    words = OwnWords(texts, await load_rules(ctx.uow), shop, ctx.now, tz)
    today = shop_day(ctx.now, tz)
    if name == "expiry":
        day = today + timedelta(days=int(config["remind_days"]))
        points = row.points_balance or 120
        return row.name, expiry_reminder(points, day, shown, words, row.name)
    offer: Offer = automation_offer(name, today, gift_of(config, name))
    assert offer.valid_until is not None
    render = birthday_greeting if name == "birthday" else winback_offer_message
    return row.name, render(0, offer.valid_until, offer, words)(row, shown)
