"""Points and rewards under concurrent attempts, driven through the bus and the daily job as a
shop meets them (on PostgreSQL each attempt in a transaction of its own, made to meet inside
its write; SQLite has one writer and must keep the same promises): two rewards confirmed at
once on a member's two chat accounts with points for one, one confirm pressed twice at once or
redelivered, a reward bought while the daily expiry is taking the same points, a coupon used
by two cashiers at once, a void while the points are being spent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from handlers.customer.rewards import FLOW
from jobs.automations.expiry import run_expiry
from shop.coupons import display_code
from shop.loyalty import add_months
from storage.repositories.points import PointsLedger
from storage.repositories.rewards import Coupons, Rewards
from storage.repositories.sales import Sales
from tests.domain.automation_support import bangkok
from tests.storage.join_edges_support import press_as
from tests.storage.loyalty_money_support import (
    Held,
    at_confirm,
    meet_at,
    second_account,
    text_of,
)
from tests.unit.rewards_support import coupon_rows, make_coupon, make_reward, reward_row
from tests.unit.sales_support import balance, ledger
from tests.unit.staff_support import audit_rows, ensure_branch, member_chat, staff_chat

APOLOGY = ("went wrong", "ขออภัย")


def _no_apology(*answers: str) -> None:
    for answer in answers:
        assert not any(word in answer for word in APOLOGY), answer


async def test_two_rewards_confirmed_at_once_on_two_accounts_with_points_for_one_issue_one(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ploy holds 100 points on Telegram and LINE; each account is at the confirm of its own
    80-point reward; both press at once. One coupon, 20 points left, the other told it is
    short, and the other reward's stock untouched."""
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100)
    line = await second_account(app, ploy.id, "U1", Channel.LINE)
    tea = await make_reward(app, cost=80, stock=5)
    cake = await make_reward(app, "เค้ก", "Cake", cost=80, stock=5)
    await at_confirm(chat, tea.id)
    await at_confirm(line, cake.id)
    answers = await meet_at(
        engine,
        monkeypatch,
        [(Rewards, "take_one")],
        [lambda: chat.press(f"{FLOW}:ok:{tea.id}"), lambda: line.press(f"{FLOW}:ok:{cake.id}")],
    )
    said = [text_of(a) for a in answers]
    _no_apology(*said)
    [coupon] = await coupon_rows(app)
    assert await balance(app, ploy.id) == 20
    assert sorted(await ledger(app, ploy.id)) == [(-80, "redeem"), (100, "welcome")]
    stocks = {reward.id: (await reward_row(app, reward.id)).stock for reward in (tea, cake)}
    assert stocks == {r.id: 4 if r.id == coupon.reward_id else 5 for r in (tea, cake)}
    assert len(await audit_rows(app, "reward.redeemed")) == 1


async def test_one_confirm_pressed_twice_at_once_issues_one_coupon_and_no_apology(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double tap arriving as two events (two ids) handled at the same moment."""
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100)
    tea = await make_reward(app, cost=20, stock=5)
    await at_confirm(chat, tea.id)
    ok = f"{FLOW}:ok:{tea.id}"
    answers = await meet_at(
        engine,
        monkeypatch,
        [(Rewards, "take_one")],
        [lambda: chat.press(ok), lambda: chat.press(ok)],
    )
    _no_apology(*(text_of(a) for a in answers))
    assert len(await coupon_rows(app)) == 1
    assert await balance(app, ploy.id) == 80
    assert (await reward_row(app, tea.id)).stock == 4


async def test_a_confirm_redelivered_at_once_and_later_issues_one_coupon(app: App) -> None:
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100)
    tea = await make_reward(app, cost=20, stock=5)
    await at_confirm(chat, tea.id)
    ok = f"{FLOW}:ok:{tea.id}"
    first, again = await asyncio.gather(
        press_as(chat, ok, "tg:confirm-1"), press_as(chat, ok, "tg:confirm-1")
    )
    later = await press_as(chat, ok, "tg:confirm-1")
    assert sorted([len(first), len(again), len(later)]) == [0, 0, 2]
    assert len(await coupon_rows(app)) == 1
    assert await balance(app, ploy.id) == 80
    assert (await reward_row(app, tea.id)).stock == 4


async def test_a_reward_bought_while_the_expiry_runs_costs_the_expiring_points_once(
    app: App, engine: AsyncEngine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ploy's 100 oldest points expire today; 100 newer ones do not. The daily expiry has read
    her ledger when she buys a 100-point reward (on PostgreSQL the purchase commits first).
    Either the expiry came first (her newer points pay for the reward: 0 left) or the reward
    took the expiring points (nothing left to expire: 100 left); never both."""
    clock.set(bangkok(2025, 3, 1, 11))
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100)
    start = clock.now()
    clock.advance(timedelta(days=200))
    async with app.uow() as uow:
        await uow.points.append(ploy.id, 100, "adjust", clock.now(), note="newer")
        await uow.commit()
    tea = await make_reward(app, cost=100)
    clock.set(add_months(start, 12) + timedelta(hours=1))
    await at_confirm(chat, tea.id)
    held = Held(monkeypatch, PointsLedger, "entries")
    _, bought = await held.while_held(
        lambda: run_expiry(app), lambda: chat.press(f"{FLOW}:ok:{tea.id}"), engine
    )
    _no_apology(text_of(bought))
    [coupon] = await coupon_rows(app)
    history = [reason for _, reason in await ledger(app, ploy.id)]
    legit = {
        ("welcome", "adjust", "expire", "redeem"): 0,  # expired first, newer points paid
        ("welcome", "adjust", "redeem"): 100,  # the reward took the expiring points
    }
    assert tuple(history) in legit, history
    assert await balance(app, ploy.id) == legit[tuple(history)]
    assert coupon.points_spent == 100


async def test_a_void_while_the_expiry_runs_leaves_the_members_newer_points(
    app: App, engine: AsyncEngine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OLD's 100 points expire today, NEW's 50 do not. The daily expiry has read Ploy's ledger
    when a manager voids OLD (on PostgreSQL the void commits first). Either the expiry took
    OLD's points and the void found nothing left, or the void took them and nothing was left
    to expire: NEW's 50 stay hers either way."""
    clock.set(bangkok(2025, 3, 1, 11))
    await ensure_branch(app, "asoke")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    _, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    start = clock.now()
    await manager.say("/sale 0811111111 2500 receipt=OLD")
    clock.advance(timedelta(days=200))
    await manager.say("/sale 0811111111 1250 receipt=NEW")
    clock.set(add_months(start, 12) + timedelta(hours=1))
    await manager.say("/points")  # seen just now: the void's arrival writes nothing
    held = Held(monkeypatch, PointsLedger, "entries")
    _, voided = await held.while_held(
        lambda: run_expiry(app), lambda: manager.say("/void OLD"), engine
    )
    _no_apology(text_of(voided))
    assert await balance(app, ploy.id) == 50, await ledger(app, ploy.id)


async def test_two_cashiers_using_one_coupon_at_once_use_it_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_branch(app, "asoke")
    one = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    two = await staff_chat(app, "c2", "cashier", "asoke", language_code="en")
    _, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    coupon = await make_coupon(app, ploy.id)
    answers = await meet_at(
        engine,
        monkeypatch,
        [(Coupons, "mark_redeemed")],
        [
            lambda: one.say(f"/redeem {display_code(coupon.code)}"),
            lambda: two.say(f"/redeem {coupon.code.lower()}"),
        ],
    )
    said = [text_of(a) for a in answers]
    _no_apology(*said)
    assert sum("already" in text.casefold() for text in said) == 1, said
    [stored] = await coupon_rows(app)
    assert stored.status == "redeemed"
    assert len(await audit_rows(app, "coupon.redeemed")) == 1


async def test_a_void_while_the_sales_points_are_being_spent_never_leaves_a_debt(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sale's 100 points are Ploy's only points; she confirms an 80-point reward while a
    manager voids the sale. Whichever wins, the balance is never negative, what the void could
    not take back is what the reward spent, and the books add up."""
    await ensure_branch(app, "asoke")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await manager.say(f"/sale {ploy.member_code} 2500 receipt=R1")
    tea = await make_reward(app, cost=80)
    await at_confirm(chat, tea.id)
    answers = await meet_at(
        engine,
        monkeypatch,
        [(Sales, "mark_voided"), (Rewards, "take_one")],
        [lambda: manager.say("/void R1"), lambda: chat.press(f"{FLOW}:ok:{tea.id}")],
    )
    _no_apology(*(text_of(a) for a in answers))
    entries = await ledger(app, ploy.id)
    assert await balance(app, ploy.id) == sum(delta for delta, _ in entries) >= 0
    [voided] = await audit_rows(app, "sale.voided")
    spent = -sum(delta for delta, reason in entries if reason == "redeem")
    assert voided.details["unrecovered"] == spent
    assert len(await coupon_rows(app)) == (1 if spent else 0)
