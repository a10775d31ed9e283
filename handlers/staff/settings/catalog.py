"""/settings → Rewards: the catalog pages (list, one reward, switch on/off) the owner browses.

Every change is audited (``reward.updated`` with the value before and after); adding and
editing by typed answers is :mod:`handlers.staff.settings.rewards`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.core.messages import Button, Reply
from bot.i18n import format_date, format_points
from handlers.branch_pages import PAGE_SIZE, REWARDS, button_page, nearest_page, page_holding
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.reward_settings import set_active
from storage.models import Reward


def button(ctx: Context, key: str, action: str) -> Button:
    return Button(ctx.t(key), action)


def _fields(reward: Reward, ctx: Context) -> dict[str, Any]:
    """A catalog row as the wizard's answers look (days as ISO dates in shop time)."""
    tz = ctx.settings.tz
    last = reward.ends_at - timedelta(microseconds=1) if reward.ends_at else None
    return {
        "name_th": reward.name_th,
        "name_en": reward.name_en,
        "points_cost": reward.points_cost,
        "stock": reward.stock,
        "starts_at": reward.starts_at.astimezone(tz).date().isoformat()
        if reward.starts_at
        else None,
        "ends_at": last.astimezone(tz).date().isoformat() if last else None,
        "branch_codes": list(reward.branch_codes),
        "valid_days": reward.valid_days,
    }


def summary(ctx: Context, data: dict[str, Any]) -> str:
    """One reward (the wizard's answers, or a row through :func:`_fields`) as the owner reads it."""

    def day(value: str | None) -> str:
        return "-" if value is None else format_date(date.fromisoformat(value), ctx.locale)

    stock, codes = data.get("stock"), data.get("branch_codes") or []
    return ctx.t(
        "settings.reward_summary",
        name_th=data["name_th"],
        name_en=data["name_en"],
        cost=format_points(int(data["points_cost"])),
        stock=ctx.t("settings.unlimited") if stock is None else format_points(int(stock)),
        starts=day(data.get("starts_at")),
        ends=day(data.get("ends_at")),
        branches=", ".join(codes) if codes else ctx.t("settings.all_branches"),
        days=data["valid_days"],
    )


def _line(ctx: Context, reward: Reward) -> str:
    state = ctx.t("settings.active" if reward.active else "settings.inactive")
    stock = ctx.t("settings.unlimited") if reward.stock is None else format_points(reward.stock)
    return ctx.t(
        "settings.reward_line",
        id=reward.id,
        name=reward.name_th if ctx.locale == "th" else reward.name_en,
        cost=format_points(reward.points_cost),
        stock=stock,
        state=state,
    )


async def list_rewards(ctx: Context, page: int = 0) -> list[Reply]:
    """The catalog 20 rewards a page (:mod:`handlers.branch_pages`), each page's lines with
    its buttons, so every reward can be edited, closed or restocked and one message stays
    within LINE's and Telegram's limits however many rewards the shop has."""
    rewards = await ctx.uow.rewards.all()
    choices = [
        Button(
            f"#{reward.id} {reward.name_th if ctx.locale == 'th' else reward.name_en}"[:40],
            settings_code("rw", reward.id),
        )
        for reward in rewards
    ]
    shown = button_page(ctx, choices, page, lambda n: settings_code("rwp", n), REWARDS)
    first = nearest_page(len(rewards), page) * PAGE_SIZE
    lines = [ctx.t("settings.rewards_title")]
    lines += [_line(ctx, reward) for reward in rewards[first : first + PAGE_SIZE]]
    if not rewards:
        lines.append(ctx.t("settings.no_rewards"))
    buttons = (
        button(ctx, "settings.add_reward", settings_code("rwadd")),
        *shown.buttons,
        button(ctx, "settings.back", settings_code("home")),
    )
    return [Reply(text="\n".join(filter(None, (*lines, shown.note))), buttons=buttons)]


async def show_reward(ctx: Context, reward_id: int) -> list[Reply]:
    reward = await ctx.uow.rewards.get(reward_id)
    if reward is None:
        return [ctx.reply("error.button_expired")]
    # the switch names the state it sets: a double tap or a stale card never undoes it
    switch = "settings.deactivate" if reward.active else "settings.activate"
    to = "off" if reward.active else "on"
    buttons = (
        button(ctx, "settings.edit_cost", settings_code("rwe", reward.id, "cost")),
        button(ctx, "settings.edit_stock", settings_code("rwe", reward.id, "stock")),
        button(ctx, switch, settings_code("rwt", reward.id, to)),
        button(ctx, "settings.back", settings_code("rwp", await _page_of(ctx, reward.id))),
    )
    state = ctx.t("settings.active" if reward.active else "settings.inactive")
    text = f"#{reward.id} · {state}\n{summary(ctx, _fields(reward, ctx))}"
    return [Reply(text=text, buttons=buttons)]


async def _page_of(ctx: Context, reward_id: int) -> int:
    """The catalog page listing the reward, for its page's Back button."""
    ids = [reward.id for reward in await ctx.uow.rewards.all()]
    return page_holding(ids.index(reward_id)) if reward_id in ids else 0


async def switch_reward(ctx: Context, reward_id: int, active: bool) -> list[Reply]:
    """Turn a reward on or off, as its button says (already so: nothing is written)."""
    if not await set_active(ctx.uow, changed_by(ctx), reward_id, active):
        return [ctx.reply("error.button_expired")]
    return [ctx.reply("settings.saved"), *await show_reward(ctx, reward_id)]
