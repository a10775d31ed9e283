"""First-run set-up: the first owner of an empty shop is walked through what a shop needs.

An empty shop (no branch at all) cannot record a sale, so the owner who claims it is asked in
turn for the shop's name (Thai, then English), its branches (code, Thai and English names, as
many as needed, then Done), the price of a LINE message (only when LINE is connected) and the
loyalty rules (keep the defaults in one tap, or open the rules page). Every step has a Skip
(or Done) button and lives on in ``/settings`` and ``/branches``, so nothing here is the only
way to a setting; the rules and their audit are :mod:`shop.profile` and :mod:`shop.branches`.
The ``setup`` flow is the owners' alone, checked at every step by the router.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import Conflict, DomainError
from bot.core.messages import Button, Reply
from bot.i18n import format_baht
from handlers.context import Context
from handlers.router import Audience, Router
from handlers.staff.settings import rules as rules_page
from handlers.staff.settings.shop import price_text
from shop import branches, profile
from shop.branches import CODE_MAX, CODE_MIN
from shop.loyalty import load_rules

FLOW: Final = "setup"


async def is_empty_shop(ctx: Context) -> bool:
    """A shop that has never had a branch: nothing can be sold there yet."""
    return not await ctx.uow.branches.every()


async def start_setup(ctx: Context) -> list[Reply]:
    ctx.begin(FLOW, "name_th")
    first = await _ask(ctx, "name_th")
    return [Reply(text=ctx.t("setup.start") + "\n\n" + first.text, buttons=first.buttons)]


def _button(ctx: Context, key: str, verb: str) -> Button:
    return Button(ctx.t(key), f"{FLOW}:{verb}")


async def _ask(ctx: Context, step: str) -> Reply:
    """The question of ``step`` with its buttons."""
    data = ctx.state.data if ctx.state is not None else {}
    skip = _button(ctx, "setup.skip", "skip")
    if step in ("name_th", "name_en"):
        return Reply(text=ctx.t(f"setup.ask_{step}"), buttons=(skip,))
    if step == "br_code":
        done = _button(ctx, "setup.branches_done", "done")
        return Reply(text=ctx.t("setup.ask_branch", low=CODE_MIN, high=CODE_MAX), buttons=(done,))
    if step == "br_th":
        return Reply(text=ctx.t("setup.ask_branch_th", code=data.get("code")))
    if step == "br_en":
        return Reply(text=ctx.t("setup.ask_branch_en", code=data.get("code")), buttons=(skip,))
    if step == "price":
        price = price_text(ctx, await profile.line_price(ctx.uow))
        return Reply(text=ctx.t("setup.ask_price", price=price), buttons=(skip,))
    loyalty = await load_rules(ctx.uow)
    text = ctx.t(
        "setup.ask_rules",
        baht=format_baht(loyalty.baht_per_point, ctx.locale),
        welcome=loyalty.welcome_points,
        months=loyalty.expiry_months,
    )
    keep = _button(ctx, "setup.keep_rules", "keep")
    return Reply(text=text, buttons=(keep, _button(ctx, "setup.open_rules", "rules")))


async def _next(ctx: Context, step: str, *said: Reply) -> list[Reply]:
    ctx.goto(step)
    return [*said, await _ask(ctx, step)]


async def setup_step(ctx: Context) -> list[Reply]:
    """One answer of the set-up: typed text, or Skip / Done / Keep / Open rules."""
    assert ctx.state is not None
    step = ctx.state.step
    pressed = ctx.args if ctx.inbound.action else None
    try:
        return await _answer(ctx, step, pressed, ctx.inbound.text)
    except DomainError as error:
        if error.key == "branches.duplicate" and step != "br_code":
            ctx.goto("br_code")  # taken meanwhile (another owner): ask for another code
            step = "br_code"
        return [ctx.reply(error.key, **error.params), await _ask(ctx, step)]


async def _answer(ctx: Context, step: str, pressed: str | None, text: str) -> list[Reply]:
    assert ctx.state is not None
    data = ctx.state.data
    if step == "name_th":
        if pressed == "skip":
            return await _next(ctx, "br_code")
        ctx.goto("name_en", shop_th=profile.parse_shop_name(text))
        return [await _ask(ctx, "name_en")]
    if step == "name_en":
        named = await profile.set_shop_name(
            ctx.uow,
            str(data["shop_th"]),
            None if pressed == "skip" else text,
            ctx.actor,
            ctx.now,
            ctx.channel,
        )
        saved = ctx.reply("setup.name_saved", name=named.shown(ctx.locale, named.th or ""))
        return await _next(ctx, "br_code", saved)
    if step.startswith("br_"):
        return await _branch_answer(ctx, step, pressed, text)
    if step == "price":
        if pressed != "skip":
            price = profile.parse_price(text)
            await profile.set_line_price(ctx.uow, price, ctx.actor, ctx.now, ctx.channel)
            saved = ctx.reply("setup.price_saved", price=price_text(ctx, price))
            return await _next(ctx, "rules", saved)
        return await _next(ctx, "rules")
    if step == "rules" and pressed in ("keep", "rules"):
        ctx.finish()
        done = [ctx.reply("setup.done")]
        return [*done, *await rules_page.show_rules(ctx)] if pressed == "rules" else done
    return [ctx.reply("settings.use_buttons"), await _ask(ctx, step)]


async def _branch_answer(ctx: Context, step: str, pressed: str | None, text: str) -> list[Reply]:
    assert ctx.state is not None
    if step == "br_code":
        if pressed == "done":
            return await _after_branches(ctx)
        code = branches.parse_code(text)
        if await ctx.uow.branches.by_code(code) is not None:
            raise Conflict("branches.duplicate", code=code)
        ctx.goto("br_th", code=code)
        return [await _ask(ctx, "br_th")]
    if step == "br_th":
        ctx.goto("br_en", branch_th=branches.parse_name(text))
        return [await _ask(ctx, "br_en")]
    data = ctx.state.data
    added = await branches.add_branch(
        ctx.uow,
        str(data["code"]),
        str(data["branch_th"]),
        None if pressed == "skip" else text,
        ctx.actor,
        ctx.now,
        ctx.channel,
    )
    said = ctx.reply(
        "setup.branch_added", code=added.code, name_th=added.name_th, name_en=added.name_en
    )
    ctx.goto("br_code")
    return [Reply(text=said.text, buttons=(await _ask(ctx, "br_code")).buttons)]


async def _after_branches(ctx: Context) -> list[Reply]:
    said = [] if await ctx.uow.branches.active() else [ctx.reply("setup.no_branch_yet")]
    following = "price" if ctx.settings.line_enabled else "rules"
    return await _next(ctx, following, *said)


def register(router: Router) -> None:
    router.flow(FLOW, setup_step, Audience.OWNER)
