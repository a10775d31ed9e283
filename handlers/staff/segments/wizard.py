"""``/segment new`` without a rule: a button wizard for owners who do not type rules.

Steps: branches (multi-select; none = every branch) → how recent the last visit → how many
visits → marketing consent only or everyone → the generated rule and its size → save (asking
for a name if ``/segment new NAME`` did not give one). The wizard writes rule text in the
segment language — the one way rules are stored. Its buttons are ``segw:…`` flow actions;
the router keeps every step of the flow to managers and owners.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from bot.core.messages import Button, Reply
from handlers.branch_pages import branch_page, page_holding, page_number, ticked_branches
from handlers.context import Context
from handlers.staff.segments.save import check_name, create, rule_error
from shop.campaigns.launch import segment_env
from storage.segments import SegmentRuleError, audience_size, compile_rule, parse_rule

FLOW: Final = "segw"
#: the branch step's page button (``segw:p:2``); branch buttons are ``segw:b:<code>``
PAGE_VERB: Final = "p"
RECENCY_CHOICES: Final = (30, 60, 90, 180)
VISIT_CHOICES: Final = (1, 2, 3, 5)
#: the visit-count window when no recency was picked
DEFAULT_WINDOW: Final = 90
_BARE: Final = re.compile(r"[a-z0-9_\-]+")


async def start(ctx: Context, name: str | None) -> list[Reply]:
    """Open the wizard at the branch step (``name`` given by ``/segment new NAME``)."""
    if name is not None and await ctx.uow.segments.by_name(name) is not None:
        return [ctx.reply("segment.name_taken", name=name)]
    ctx.begin(FLOW, "branches", {"name": name, "branches": []})
    return await _branch_page(ctx)


def build_rule(data: dict[str, Any]) -> str:
    """The rule text of the wizard's answers."""
    parts: list[str] = []
    codes = [c if _BARE.fullmatch(c) else f'"{c}"' for c in data.get("branches", [])]
    if codes:
        parts.append(f"branch in ({', '.join(codes)})")
    recency = data.get("recency")
    if recency:
        parts.append(f"last_visit_days <= {recency}")
    visits = data.get("visits")
    if visits:
        parts.append(f"visits_{recency or DEFAULT_WINDOW}d >= {visits}")
    if data.get("marketing"):
        parts.append("marketing = yes")
    return " and ".join(parts) or "days_since_join >= 0"  # nothing picked: every member


async def wizard_step(ctx: Context) -> list[Reply]:
    """One button press or typed name of the wizard (managers+, checked by the router)."""
    assert ctx.state is not None
    data, step = ctx.state.data, ctx.state.step
    verb, _, value = ctx.args.partition(":")
    if verb == "cancel":
        ctx.finish()
        return [ctx.reply("segment.wizard_cancelled")]
    if step == "branches" and verb == PAGE_VERB:
        return await _branch_page(ctx, page_number(value))
    if step == "branches" and verb == "b":
        if value == "next":
            ctx.goto("recency")
            return [_choices(ctx, "segment.wizard_recency", "r", RECENCY_CHOICES, "days")]
        return await _toggle_branch(ctx, value)
    if step == "recency" and verb == "r":
        if (recency := _picked(value, RECENCY_CHOICES)) is False:
            return [ctx.reply("error.button_expired")]
        ctx.goto("visits", recency=recency)
        return [_choices(ctx, "segment.wizard_visits", "v", VISIT_CHOICES, "visits")]
    if step == "visits" and verb == "v":
        if (visits := _picked(value, VISIT_CHOICES)) is False:
            return [ctx.reply("error.button_expired")]
        ctx.goto("consent", visits=visits)
        yes = Button(ctx.t("segment.wizard_consent_yes"), f"{FLOW}:m:yes")
        anyone = Button(ctx.t("segment.wizard_consent_any"), f"{FLOW}:m:any")
        return [Reply(text=ctx.t("segment.wizard_consent"), buttons=(yes, anyone, _cancel(ctx)))]
    if step == "consent" and verb == "m":
        ctx.goto("review", marketing=value == "yes")
        return await _review(ctx)
    if step == "review" and verb == "save":
        if data.get("name"):
            return await _save(ctx, str(data["name"]))
        ctx.goto("name")
        return [ctx.reply("segment.wizard_name", _cancel(ctx))]
    if step == "name" and not ctx.args and ctx.inbound.text.strip():
        return await _save(ctx, ctx.inbound.text)
    return [ctx.reply("segment.wizard_use_buttons")]


async def _save(ctx: Context, name_text: str) -> list[Reply]:
    name = check_name(name_text)  # a bad name is refused; the wizard waits for another
    if await ctx.uow.segments.by_name(name) is not None:
        return [ctx.reply("segment.name_taken", name=name)]
    assert ctx.state is not None
    replies = await create(ctx, name, build_rule(ctx.state.data))
    ctx.finish()
    return replies


async def _toggle_branch(ctx: Context, code: str) -> list[Reply]:
    """Add or remove one branch, then show the page it is on (the button may be from a page
    shown earlier: it names its branch, not a place on a page)."""
    assert ctx.state is not None
    chosen = list(ctx.state.data.get("branches", []))
    codes = [branch.code for branch in await ctx.uow.branches.active()]
    if code in chosen:
        chosen.remove(code)
    elif code in codes:
        chosen.append(code)  # only real branches: a button is a request, not a fact
    ctx.goto("branches", branches=chosen)
    return await _branch_page(ctx, page_holding(codes.index(code)) if code in codes else 0)


async def _branch_page(ctx: Context, page: int = 0) -> list[Reply]:
    """The branch step: the active branches a page at a time, ticked when chosen."""
    assert ctx.state is not None
    chosen = set(ctx.state.data.get("branches", []))
    branches = await ctx.uow.branches.active()
    picks = ticked_branches(ctx, branches, chosen, lambda code: f"{FLOW}:b:{code}")
    shown = branch_page(ctx, picks, page, lambda n: f"{FLOW}:{PAGE_VERB}:{n}")
    buttons = (*shown.buttons, Button(ctx.t("segment.wizard_next"), f"{FLOW}:b:next"))
    key = "segment.wizard_branches" if chosen else "segment.wizard_branches_none"
    text = "\n".join(filter(None, (ctx.t(key, count=len(chosen)), shown.note)))
    return [Reply(text=text, buttons=(*buttons, _cancel(ctx)))]


def _choices(ctx: Context, key: str, verb: str, options: tuple[int, ...], unit: str) -> Reply:
    buttons = [
        Button(ctx.t(f"segment.wizard_unit_{unit}", n=n), f"{FLOW}:{verb}:{n}") for n in options
    ]
    buttons += [Button(ctx.t("segment.wizard_any"), f"{FLOW}:{verb}:any"), _cancel(ctx)]
    return Reply(text=ctx.t(key), buttons=tuple(buttons))


def _picked(value: str, options: tuple[int, ...]) -> int | Literal[False] | None:
    """The choice a button of :func:`_choices` names: one of ``options``, None for "any";
    False for any other value (a button is a request: its data can be forged or stale)."""
    if value == "any":
        return None
    return next((n for n in options if value == str(n)), False)


def _cancel(ctx: Context) -> Button:
    return Button(ctx.t("segment.wizard_cancel"), f"{FLOW}:cancel")


async def _review(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    rule = build_rule(ctx.state.data)
    env = await segment_env(ctx.uow, ctx.now, ctx.settings.tz)
    try:
        size = await audience_size(ctx.uow, compile_rule(parse_rule(rule), env))
    except SegmentRuleError as error:  # a branch code that is not a plain word: say so
        ctx.finish()
        return [rule_error(ctx, error)]
    save = Button(ctx.t("segment.wizard_save"), f"{FLOW}:save")
    text = ctx.tn("segment.wizard_review", size, rule=rule)
    return [Reply(text=text, buttons=(save, _cancel(ctx)))]
