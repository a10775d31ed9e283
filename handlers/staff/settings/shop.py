"""/settings → The shop: its name (Thai and English) and the price of one LINE message.

Pages are ``shp:`` buttons, typed answers the ``shpv`` flow; the router keeps both to owners at
every step. The rules and the audit are :mod:`shop.profile`; a refused value is explained,
asked again and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.router import Audience, Router
from handlers.staff.settings.actions import settings_code
from shop import profile

ACTIONS: Final = "shp"
FLOW: Final = "shpv"


def price_text(ctx: Context, price: Decimal) -> str:
    return ctx.t("shopset.price_value", price=f"{price.normalize():f}")


async def show_shop(ctx: Context) -> list[Reply]:
    name = await profile.shop_name(ctx.uow)
    unset = ctx.t("shopset.not_set", default=ctx.settings.shop_name)
    text = ctx.t(
        "shopset.title",
        name_th=name.th or unset,
        name_en=name.en or unset,
        price=price_text(ctx, await profile.line_price(ctx.uow)),
    )
    buttons = (
        Button(ctx.t("shopset.edit_name"), f"{ACTIONS}:name"),
        Button(ctx.t("shopset.edit_price"), f"{ACTIONS}:price"),
        Button(ctx.t("settings.back"), settings_code("home")),
    )
    return [Reply(text=text, buttons=buttons)]


def _ask(ctx: Context, key: str, *, skip: bool = False, **params: object) -> Reply:
    buttons = [Button(ctx.t("shopset.skip"), f"{FLOW}:skip")] if skip else []
    buttons.append(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"))
    return Reply(text=ctx.t(key, **params), buttons=tuple(buttons))


async def _ask_for(ctx: Context, step: str) -> Reply:
    if step == "price":
        current = price_text(ctx, await profile.line_price(ctx.uow))
        return _ask(ctx, "shopset.ask_price", current=current)
    name = await profile.shop_name(ctx.uow)
    if step == "name_th":
        return _ask(ctx, "shopset.ask_name_th", current=name.th or "-")
    return _ask(ctx, "shopset.ask_name_en", skip=True, current=name.en or "-")


async def shop_action(ctx: Context) -> list[Reply]:
    """``shp:home`` (the page), ``shp:name`` and ``shp:price`` (start a typed edit)."""
    if ctx.state is not None and ctx.state.flow == FLOW:
        ctx.finish()
    if ctx.args == "home":
        return await show_shop(ctx)
    if ctx.args == "name":
        ctx.begin(FLOW, "name_th")
        return [await _ask_for(ctx, "name_th")]
    if ctx.args == "price":
        ctx.begin(FLOW, "price")
        return [await _ask_for(ctx, "price")]
    return [ctx.reply("error.button_expired")]


async def shop_step(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    if ctx.inbound.action and ctx.args == "cancel":
        ctx.finish()
        return [ctx.reply("settings.cancelled"), *await show_shop(ctx)]
    step, text = ctx.state.step, ctx.inbound.text
    skipped = bool(ctx.inbound.action) and ctx.args == "skip"
    try:
        if step == "name_th":
            ctx.goto("name_en", name_th=profile.parse_shop_name(text))
            return [await _ask_for(ctx, "name_en")]
        if step == "name_en":
            name_th = str(ctx.state.data["name_th"])
            await profile.set_shop_name(
                ctx.uow, name_th, None if skipped else text, ctx.actor, ctx.now, ctx.channel
            )
        elif step == "price":
            price = profile.parse_price(text)
            await profile.set_line_price(ctx.uow, price, ctx.actor, ctx.now, ctx.channel)
        else:
            ctx.finish()
            return [ctx.reply("error.button_expired")]
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask_for(ctx, step)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_shop(ctx)]


def register(router: Router) -> None:
    router.action(ACTIONS, shop_action, Audience.OWNER)
    router.flow(FLOW, shop_step, Audience.OWNER)
