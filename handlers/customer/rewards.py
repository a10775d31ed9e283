"""/rewards: spend points on the catalog (flow ``rw``: pick → confirm → coupon); /coupons.

Buying is one unit of work: a conditional stock decrement, a conditional ledger debit and the
coupon row. Whatever fails (sold out, not enough points — also when another purchase won the
race a moment ago) leaves none of the three behind. A double-tapped confirm issues one coupon:
the first press ends the flow, and its idempotency key refuses a second debit should two
presses ever be handled at the same moment.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.errors import Conflict, DomainError
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_date, format_points
from handlers.branch_pages import (
    COUPONS,
    PAGE_SIZE,
    REWARDS,
    nearest_page,
    page_number,
    page_turn,
)
from handlers.context import Context
from handlers.customer.common import audit
from handlers.customer.inbox import to_inbox
from handlers.router import Audience, Command, Router
from shop.coupons import (
    coupon_title,
    display_code,
    expiry_after,
    issue_coupon,
    last_valid_day,
)
from storage.models import Coupon, Reward
from storage.uow import UnitOfWork
from wording.coupons import coupon_reply, unusable_coupon_reply

FLOW: Final = "rw"
#: the action namespace of a /coupons button (show that coupon again, with its QR)
SHOW_COUPON: Final = "cpn"


class RewardUnavailable(Conflict):
    key = "rewards.unavailable"


class AlreadyIssued(Conflict):
    key = "rewards.already_issued"


class PriceChanged(Conflict):
    """The reward's cost is no longer the one the member agreed to; nothing was taken."""

    key = "rewards.price_changed"


def reward_name(reward: Reward, locale: str) -> str:
    return reward.name_th if locale == "th" else reward.name_en


async def buy_reward(
    uow: UnitOfWork,
    member_id: int,
    reward_id: int,
    tz: ZoneInfo,
    now: datetime,
    key: str | None,
    cost: int | None = None,
) -> Coupon:
    """Exchange points for a coupon of ``reward_id``; all or nothing.

    ``cost``: the price the member agreed to; a reward whose price is another now (the owner
    changed it meanwhile) raises :class:`PriceChanged`, and the stock is taken only while the
    price is still the one charged. Raises :class:`RewardUnavailable` (inactive, out of date,
    sold out or only for closed branches), ``InsufficientPoints`` or :class:`AlreadyIssued`
    (``key`` was used before). The caller runs it inside a savepoint or lets the error end the
    unit of work.
    """
    reward = await uow.rewards.get(reward_id)
    if reward is None:
        raise RewardUnavailable()
    if cost is not None and reward.points_cost != cost:
        raise PriceChanged()
    charged = reward.points_cost
    if not await uow.rewards.take_one(reward_id, now, points_cost=charged):
        # Why not? The owner may have saved a new price after the read above (the UPDATE
        # waited for that commit and found another price): that is a price change, asked
        # again, not a reward gone. The row as committed now tells (re-read into ``reward``).
        if (now_priced := await uow.rewards.get(reward_id)) and now_priced.points_cost != charged:
            raise PriceChanged()
        raise RewardUnavailable()
    entry = await uow.points.append(
        member_id,
        -charged,
        "redeem",
        now,
        note=f"reward {reward.id}",
        idempotency_key=None if key is None else f"reward:{key}",
    )
    if entry is None:
        raise AlreadyIssued()
    return await issue_coupon(
        uow,
        member_id,
        reward.name_th,
        reward.name_en,
        expiry_after(now, reward.valid_days, tz),
        now,
        reward_id=reward.id,
        points_spent=charged,
        branch_codes=reward.branch_codes,
    )


async def show_rewards(ctx: Context, page: int = 0) -> list[Reply]:
    """/rewards (members): what is on offer now, with a button for each reward they can
    afford; a catalog longer than a page is shown :data:`PAGE_SIZE` rewards at a time (its
    lines and its buttons), with a button to the next page."""
    assert ctx.member is not None
    balance = await ctx.uow.points.balance(ctx.member.id)
    rewards = await ctx.uow.rewards.available(ctx.now)
    if not rewards:
        return [ctx.reply("rewards.empty", points=format_points(balance))]
    page = nearest_page(len(rewards), page)
    lines = [ctx.t("rewards.title", points=format_points(balance))]
    buttons: list[Button] = []
    for reward in rewards[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        name, cost = reward_name(reward, ctx.locale), format_points(reward.points_cost)
        if reward.points_cost <= balance:
            lines.append(ctx.t("rewards.line_affordable", name=name, cost=cost))
            label = ctx.t("rewards.pick", name=name, cost=cost)
            buttons.append(Button(label, f"{FLOW}:pick:{reward.id}"))
        else:
            more = format_points(reward.points_cost - balance)
            lines.append(ctx.t("rewards.line_short", name=name, cost=cost, more=more))
    turn, note = page_turn(ctx, len(rewards), page, lambda n: f"{FLOW}:page:{n}", REWARDS)
    if buttons or turn is not None:
        ctx.begin(FLOW, "pick")
    if note:
        lines.append(note)
    if buttons:
        lines.append(ctx.t("rewards.choose"))
    elif any(reward.points_cost <= balance for reward in rewards):
        # the catalog is ordered by price: what the member can get is on the earlier pages
        lines.append(ctx.t("rewards.affordable_earlier"))
    else:
        lines.append(ctx.t("rewards.none_affordable"))
    if turn is not None:
        buttons.append(turn)
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


async def rewards_step(ctx: Context) -> list[Reply]:
    """Buttons of the ``rw`` flow: ``pick:<id>``, ``ok:<id>``, ``no``; typed text re-asks."""
    assert ctx.state is not None
    verb, _, rest = ctx.args.partition(":")
    if verb == "no":
        ctx.finish()
        return [ctx.reply("rewards.cancelled")]
    if verb == "page":
        return await show_rewards(ctx, page_number(rest))
    picked = row_id(rest) if verb == "pick" else None
    if picked is not None:
        return await _confirm(ctx, picked)
    if verb == "ok" and ctx.state.step == "confirm" and rest == str(ctx.state.data.get("reward")):
        cost = ctx.state.data.get("cost")
        nonce = str(ctx.state.data.get("nonce"))
        return await _buy(ctx, int(rest), nonce, cost if isinstance(cost, int) else None)
    if ctx.inbound.action:
        return [ctx.reply("error.button_expired")]
    # Typed text is not an answer to a list of buttons: it is a message to the shop, and the
    # half-finished choice is dropped (nothing was spent).
    ctx.finish()
    return await to_inbox(ctx)


async def _confirm(ctx: Context, reward_id: int, was: int | None = None) -> list[Reply]:
    """Ask "redeem it for N points?"; ``was``: the price the member last saw, when the owner
    changed it since (the question is asked again, saying so)."""
    assert ctx.member is not None
    reward = await ctx.uow.rewards.get(reward_id)
    available = {r.id for r in await ctx.uow.rewards.available(ctx.now)}
    if reward is None or reward.id not in available:
        ctx.finish()
        return [ctx.reply("rewards.unavailable")]
    changed = [] if was is None else [_price_changed(ctx, reward, was)]
    balance = await ctx.uow.points.balance(ctx.member.id)
    if reward.points_cost > balance:
        ctx.finish()
        needed = reward.points_cost
        return [*changed, ctx.reply("error.insufficient_points", balance=balance, needed=needed)]
    # the price asked about is the one charged (see buy_reward): the owner may change it
    # while the member thinks
    data = {"reward": reward.id, "nonce": secrets.token_hex(8), "cost": reward.points_cost}
    ctx.begin(FLOW, "confirm", data)
    text = ctx.t(
        "rewards.confirm",
        name=reward_name(reward, ctx.locale),
        cost=format_points(reward.points_cost),
        balance=format_points(balance),
        after=format_points(balance - reward.points_cost),
        days=reward.valid_days,
    )
    yes = Button(ctx.t("rewards.yes"), f"{FLOW}:ok:{reward.id}")
    no = Button(ctx.t("rewards.no"), f"{FLOW}:no")
    return [*changed, Reply(text=text, buttons=(yes, no))]


def _price_changed(ctx: Context, reward: Reward, was: int) -> Reply:
    name = reward_name(reward, ctx.locale)
    before, cost = format_points(was), format_points(reward.points_cost)
    return ctx.reply("rewards.price_changed", name=name, was=before, cost=cost)


async def _buy(ctx: Context, reward_id: int, nonce: str, cost: int | None) -> list[Reply]:
    """The yes of the confirm question: buy at the price it named (``cost``), or, when the
    owner changed the price meanwhile, say so and ask again at the new one."""
    assert ctx.member is not None
    member_id = ctx.member.id
    ctx.finish()  # the first press ends the flow: a second press finds the button expired
    before = await ctx.uow.points.balance(member_id)
    try:
        async with ctx.uow.savepoint():
            coupon = await buy_reward(
                ctx.uow, member_id, reward_id, ctx.settings.tz, ctx.now, nonce, cost
            )
    except PriceChanged:
        return await _confirm(ctx, reward_id, was=cost)
    except DomainError as error:
        return [ctx.reply(error.key, **error.params)]
    after = await ctx.uow.points.balance(member_id)
    await audit(
        ctx,
        "reward.redeemed",
        member_id,
        reward_id=reward_id,
        coupon_id=coupon.id,
        points=coupon.points_spent,
        balance_before=before,
        balance_after=after,
    )
    return [
        await coupon_reply(ctx.uow, coupon, ctx.locale, ctx.settings.tz),
        ctx.reply("rewards.bought", points=format_points(after)),
    ]


async def show_coupons(ctx: Context, page: int = 0) -> list[Reply]:
    """/coupons (members): usable coupons first (with a button to show each one's QR), then
    recently used or expired ones; :data:`PAGE_SIZE` coupons a page, with a button to the
    next page."""
    assert ctx.member is not None
    total = await ctx.uow.coupons.count_of_member(ctx.member.id)
    if not total:
        return [ctx.reply("coupons.empty")]
    page = nearest_page(total, page)
    coupons = await ctx.uow.coupons.of_member(
        ctx.member.id, ctx.now, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    lines, buttons = [ctx.t("coupons.title")], list[Button]()
    tz = ctx.settings.tz
    for coupon in coupons:
        title = coupon_title(coupon, ctx.locale)
        day = format_date(last_valid_day(coupon, tz), ctx.locale)
        if coupon.status == "issued" and coupon.expires_at > ctx.now:
            code = display_code(coupon.code)
            lines.append(ctx.t("coupons.line_active", title=title, code=code, date=day))
            buttons.append(Button(title[:40], f"{SHOW_COUPON}:{coupon.id}"))
        elif coupon.status == "redeemed" and coupon.redeemed_at is not None:
            used = format_date(coupon.redeemed_at.astimezone(tz).date(), ctx.locale)
            lines.append(ctx.t("coupons.line_used", title=title, date=used))
        else:
            lines.append(ctx.t("coupons.line_expired", title=title, date=day))
    turn, note = page_turn(ctx, total, page, lambda n: f"{SHOW_COUPON}:page:{n}", COUPONS)
    if turn is not None:
        lines.append(note)
        buttons.append(turn)
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


async def show_one_coupon(ctx: Context) -> list[Reply]:
    """A /coupons button: that coupon again with its QR — only the member's own coupon."""
    assert ctx.member is not None
    verb, _, rest = ctx.args.partition(":")
    if verb == "page":
        return await show_coupons(ctx, page_number(rest))
    coupon_id = row_id(ctx.args)
    coupon = None if coupon_id is None else await ctx.uow.coupons.get(coupon_id)
    if coupon is None or coupon.member_id != ctx.member.id:
        return [ctx.reply("error.button_expired")]
    if (stale := unusable_coupon_reply(coupon, ctx.locale, ctx.settings.tz, ctx.now)) is not None:
        return [stale]  # used or expired since the list was sent: no QR to show the cashier
    return [await coupon_reply(ctx.uow, coupon, ctx.locale, ctx.settings.tz)]


def register(router: Router) -> None:
    """``/rewards`` and ``/coupons`` (members), the ``rw`` flow and the ``cpn:`` buttons."""
    member = Audience.MEMBER
    for name, handler, keywords, describe in (
        ("rewards", show_rewards, ("rewards", "ของรางวัล", "แลกแต้ม"), "rewards.cmd_rewards"),
        ("coupons", show_coupons, ("coupons", "คูปอง", "คูปองของฉัน"), "coupons.cmd_coupons"),
    ):
        router.command(Command(name, handler, member, keywords=keywords, describe=describe))
    router.flow(FLOW, rewards_step, member)
    router.action(SHOW_COUPON, show_one_coupon, member)
