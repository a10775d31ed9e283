"""``/void`` meeting points that already left the member another way (expiry, a reward), and a
void that pulls a member back below a tier, as the counter and the member meet them: the sale
through ``/sale``, the expiry through the daily job, the void through ``/void``; what is
asserted is the ledger, the balance, the tier the next sale earns at and what staff read."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.expiry import run_expiry
from shop.loyalty import add_months
from tests.chat import Chat
from tests.domain.automation_support import bangkok
from tests.unit.rewards_support import make_reward
from tests.unit.sales_support import balance, ledger, queued
from tests.unit.staff_support import audit_rows, ensure_branch, member_chat, staff_chat


async def _shop(app: App, clock: FrozenClock) -> tuple[Chat, Chat, int]:
    """One branch (Asoke), a manager (English) and Ploy with no points, on 1 March 2025."""
    clock.set(bangkok(2025, 3, 1, 11))
    await ensure_branch(app, "asoke")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    return manager, chat, ploy.id


async def test_voiding_a_sale_whose_points_expired_takes_no_other_points(
    app: App, clock: FrozenClock
) -> None:
    """OLD earned 100 points a year ago and they expired; NEW's 50 are fresh. Voiding OLD
    takes back what OLD still holds (nothing): had OLD never been rung up, Ploy would hold 50."""
    manager, _, ploy = await _shop(app, clock)
    start = clock.now()
    await manager.say("/sale 0811111111 2500 receipt=OLD")  # 100 points
    clock.advance(timedelta(days=200))
    await manager.say("/sale 0811111111 1250 receipt=NEW")  # 50 points
    clock.set(add_months(start, 12) + timedelta(hours=1))
    assert (await run_expiry(app))["expired_points"] == 100
    assert await balance(app, ploy) == 50
    await manager.say("/void OLD")
    assert "voided" in manager.text().casefold() or "OLD" in manager.text()
    assert "100 points of this sale, already expired" in manager.text(), manager.text()
    assert "already spent" not in manager.text()
    assert await balance(app, ploy) == 50
    assert [entry for entry in await ledger(app, ploy) if entry[1] == "void"] == []
    [voided] = await audit_rows(app, "sale.voided")
    assert (voided.details["expired"], voided.details["unrecovered"]) == (100, 0)


async def test_a_void_takes_back_what_was_spent_of_a_partly_expired_sale_but_not_the_expired(
    app: App, clock: FrozenClock
) -> None:
    """OLD's 100 points: 60 bought a reward at once, the other 40 expired a year later; NEW's 50
    are fresh. Voiding OLD takes back the 60 spent as far as the balance covers them (50, the
    other 10 written off) and not the 40 the expiry already took."""
    manager, chat, ploy = await _shop(app, clock)
    start = clock.now()
    await manager.say("/sale 0811111111 2500 receipt=OLD")  # 100 points
    tea = await make_reward(app, cost=60)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{tea.id}")
    await chat.press(f"rw:ok:{tea.id}")
    clock.advance(timedelta(days=200))
    await manager.say("/sale 0811111111 1250 receipt=NEW")  # 50 points
    clock.set(add_months(start, 12) + timedelta(hours=1))
    assert (await run_expiry(app))["expired_points"] == 40
    await manager.say("/void OLD")
    assert await balance(app, ploy) == 0
    assert (await ledger(app, ploy))[-1] == (-50, "void")
    [voided] = await audit_rows(app, "sale.voided")
    assert (voided.details["expired"], voided.details["unrecovered"]) == (40, 10)
    assert "10 points of this sale, already spent" in manager.text(), manager.text()
    assert "40 points of this sale, already expired" in manager.text()


async def test_a_void_that_undoes_the_spend_of_a_tier_drops_the_next_sale_to_its_rate(
    app: App, clock: FrozenClock
) -> None:
    """A 3,000-baht sale made Ploy Silver (×1.25); once it is voided her next sale earns the
    Member rate again, and /points counts her spend without it."""
    manager, chat, ploy = await _shop(app, clock)
    await manager.say("/sale 0811111111 3000 receipt=BIG")  # 120 points, now Silver
    assert len(await queued(app, "tierup:")) == 1
    await manager.say("/void BIG")
    await manager.say("/sale 0811111111 1000 receipt=NEXT")  # 40 points at ×1, not 50
    assert await ledger(app, ploy) == [(120, "sale"), (-120, "void"), (40, "sale")]
    await chat.say("/points")
    assert "เมมเบอร์" in chat.text()  # Member
    assert "2,000" in chat.text()  # baht still to Silver: the voided 3,000 does not count


async def test_a_void_after_the_points_bought_a_reward_never_goes_below_zero(
    app: App, clock: FrozenClock
) -> None:
    """The sale's 100 points bought a 100-point reward at once; the void writes them off (the
    balance stays 0, staff are told what could not be taken back) and the coupon stays."""
    manager, chat, ploy = await _shop(app, clock)
    await manager.say("/sale 0811111111 2500 receipt=R1")
    tea = await make_reward(app, cost=100)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{tea.id}")
    await chat.press(f"rw:ok:{tea.id}")
    await manager.say("/void R1")
    assert await balance(app, ploy) == 0
    assert await ledger(app, ploy) == [(100, "sale"), (-100, "redeem")]
    assert "100" in manager.text()
