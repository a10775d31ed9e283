"""``/branches`` (owner): list the shop's branches; add, rename, close and reopen them.

Pages are ``brn:`` buttons and typed answers go through the ``brnv`` flow; the router keeps
both to owners at every step, whatever a button claims. The rules (the code's shape, unique
codes, what closing means, the audit) are :mod:`shop.branches`; this module only asks and
shows. A refused answer is explained and asked again, with nothing written.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import Conflict, DomainError
from bot.core.messages import Button, Reply
from handlers.branch_pages import PAGE_SIZE, branch_page, nearest_page, page_number
from handlers.context import Context
from handlers.router import Audience, Command, Router
from shop import branches as rules
from shop.branches import CODE_MAX, CODE_MIN, BranchView

ACTIONS: Final = "brn"
FLOW: Final = "brnv"


def _line(ctx: Context, branch: BranchView) -> str:
    key = "branches.line_open" if branch.is_open else "branches.line_closed"
    return ctx.t(key, code=branch.code, name_th=branch.name_th, name_en=branch.name_en)


async def list_branches(ctx: Context, page: int = 0) -> list[Reply]:
    """/branches: every branch, open ones first, each a button to its page; a chain's
    branches 20 a page (:mod:`handlers.branch_pages`), each page's lines with its buttons, so
    every branch can be renamed, closed or reopened and one message stays within LINE's and
    Telegram's limits however many branches there are."""
    every = await rules.list_branches(ctx.uow)
    every.sort(key=lambda branch: not branch.is_open)
    choices = [Button(b.code, f"{ACTIONS}:show:{b.code}") for b in every]
    shown = branch_page(ctx, choices, page, lambda n: f"{ACTIONS}:page:{n}")
    first = nearest_page(len(every), page) * PAGE_SIZE
    lines = [ctx.t("branches.title")] if every else [ctx.t("branches.none")]
    lines += [_line(ctx, branch) for branch in every[first : first + PAGE_SIZE]]
    buttons = (Button(ctx.t("branches.add"), f"{ACTIONS}:add"), *shown.buttons)
    return [Reply(text="\n".join(filter(None, (*lines, shown.note))), buttons=buttons)]


def _page(ctx: Context, branch: BranchView) -> Reply:
    state = "branches.state_open" if branch.is_open else "branches.state_closed"
    text = ctx.t(
        "branches.page",
        code=branch.code,
        name_th=branch.name_th,
        name_en=branch.name_en,
        state=ctx.t(state),
    )
    switch = (
        Button(ctx.t("branches.close"), f"{ACTIONS}:close:{branch.code}")
        if branch.is_open
        else Button(ctx.t("branches.reopen"), f"{ACTIONS}:open:{branch.code}")
    )
    buttons = (
        Button(ctx.t("branches.rename"), f"{ACTIONS}:ren:{branch.code}"),
        switch,
        Button(ctx.t("branches.back"), f"{ACTIONS}:list"),
    )
    return Reply(text=text, buttons=buttons)


def _ask(ctx: Context, key: str, *, skip: bool = False, **params: object) -> Reply:
    buttons = [Button(ctx.t("branches.skip"), f"{FLOW}:skip")] if skip else []
    buttons.append(Button(ctx.t("branches.cancel"), f"{FLOW}:cancel"))
    return Reply(text=ctx.t(key, **params), buttons=tuple(buttons))


def ask_code(ctx: Context) -> Reply:
    return _ask(ctx, "branches.ask_code", low=CODE_MIN, high=CODE_MAX)


async def branch_action(ctx: Context) -> list[Reply]:
    """A ``brn:`` button: ``list``, ``page:N``, ``add``, ``show:CODE``, ``ren:CODE``,
    ``close:CODE``, ``open:CODE``."""
    verb, _, code = ctx.args.partition(":")
    if ctx.state is not None and ctx.state.flow == FLOW:
        ctx.finish()  # a page button leaves a half-typed answer behind
    if verb == "list":
        return await list_branches(ctx)
    if verb == "page":
        return await list_branches(ctx, page_number(code))
    if verb == "add":
        ctx.begin(FLOW, "code")
        return [ask_code(ctx)]
    if not code:
        return [ctx.reply("error.button_expired")]
    branch = await rules.find(ctx.uow, code)
    if verb == "show":
        return [_page(ctx, branch)]
    if verb == "ren":
        ctx.begin(FLOW, "ren_th", {"code": branch.code})
        return [_ask(ctx, "branches.ask_name_th")]
    if verb in ("close", "open"):
        changed = await rules.set_open(
            ctx.uow, branch.code, verb == "open", ctx.actor, ctx.now, ctx.channel
        )
        said = "branches.reopened" if changed.is_open else "branches.closed"
        return [ctx.reply(said, code=changed.code), _page(ctx, changed)]
    return [ctx.reply("error.button_expired")]


async def branch_step(ctx: Context) -> list[Reply]:
    """A typed answer (or Skip / Cancel) of an add or a rename in progress."""
    assert ctx.state is not None
    if ctx.inbound.action and ctx.args == "cancel":
        ctx.finish()
        return [ctx.reply("branches.cancelled"), *await list_branches(ctx)]
    skipped = bool(ctx.inbound.action) and ctx.args == "skip"
    step, data = ctx.state.step, ctx.state.data
    try:
        if step == "code":
            code = rules.parse_code(ctx.inbound.text)
            if await ctx.uow.branches.by_code(code) is not None:
                raise Conflict("branches.duplicate", code=code)
            ctx.goto("th", code=code)
            return [_ask(ctx, "branches.ask_name_th")]
        if step in ("th", "ren_th"):
            name = rules.parse_name(ctx.inbound.text)
            ctx.goto("en" if step == "th" else "ren_en", name_th=name)
            return [_ask(ctx, "branches.ask_name_en", skip=True)]
        if step in ("en", "ren_en"):
            return await _save(ctx, step, data, None if skipped else ctx.inbound.text)
    except DomainError as error:
        if error.key == "branches.duplicate" and step != "code":
            ctx.goto("code")  # taken meanwhile, by another owner: ask for another code
            step = "code"
        return [ctx.reply(error.key, **error.params), _reask(ctx, step)]
    ctx.finish()
    return [ctx.reply("error.button_expired")]


def _reask(ctx: Context, step: str) -> Reply:
    if step == "code":
        return ask_code(ctx)
    if step in ("th", "ren_th"):
        return _ask(ctx, "branches.ask_name_th")
    return _ask(ctx, "branches.ask_name_en", skip=True)


async def _save(
    ctx: Context, step: str, data: dict[str, object], name_en: str | None
) -> list[Reply]:
    code, name_th = str(data["code"]), str(data["name_th"])
    if step == "en":
        saved = await rules.add_branch(
            ctx.uow, code, name_th, name_en, ctx.actor, ctx.now, ctx.channel
        )
        said = "branches.added"
    else:
        saved = await rules.rename_branch(
            ctx.uow, code, name_th, name_en, ctx.actor, ctx.now, ctx.channel
        )
        said = "branches.renamed"
    ctx.finish()
    names = {"name_th": saved.name_th, "name_en": saved.name_en}
    return [ctx.reply(said, code=saved.code, **names), *await list_branches(ctx)]


def register(router: Router) -> None:
    router.command(
        Command("branches", list_branches, Audience.OWNER, describe="branches.cmd_branches")
    )
    router.action(ACTIONS, branch_action, Audience.OWNER)
    router.flow(FLOW, branch_step, Audience.OWNER)
