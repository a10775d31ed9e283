"""A chain of five branches run through the chat, from outside: a branch's numbers add up to the
shop's, a branch-scoped cashier or manager acts on their own branch only, and a receipt
number is tied to the branch that printed it.

The shop: Baan Cha Yen's five branches, an owner, a manager and a cashier at Asoke and at
Sukhumvit, members whose home branch is not where they buy.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from jobs.feedback import run_feedback
from tests.chat import Chat
from tests.unit.inbox_support import add_sale, feedback_rows
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.sales_support import actions_of, queued, sales
from tests.unit.staff_support import (
    ensure_branch,
    ensure_branches,
    make_member,
    member_chat,
    staff_chat,
)

_BRANCH_LINE = re.compile(r"^• (.+): (\d+) sales? · ฿([\d,]+(?:\.\d\d)?)$", re.M)
_SALES_LINE = re.compile(r"^Sales (\d+) · revenue ฿([\d,]+(?:\.\d\d)?)$", re.M)


def _baht(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def branch_lines(text: str) -> dict[str, tuple[int, Decimal]]:
    """``/report``'s per-branch lines: branch name → (sales, revenue)."""
    return {name: (int(n), _baht(v)) for name, n, v in _BRANCH_LINE.findall(text)}


def sales_line(text: str) -> tuple[int, Decimal]:
    found = _SALES_LINE.search(text)
    assert found is not None, text
    return int(found.group(1)), _baht(found.group(2))


async def _chain(app: App) -> dict[str, Chat]:
    """The five branches, an owner, a manager and a cashier at Asoke and at Sukhumvit."""
    await ensure_branches(app)
    people = {
        "owner": await staff_chat(app, "own", "owner", language_code="en"),
        "mgr_asoke": await staff_chat(app, "ma", "manager", "asoke", language_code="en"),
        "mgr_sukh": await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en"),
        "cash_asoke": await staff_chat(app, "ca", "cashier", "asoke", language_code="en"),
        "cash_sukh": await staff_chat(app, "cs", "cashier", "sukhumvit", language_code="en"),
    }
    return people


async def test_the_branch_lines_of_the_report_add_up_to_the_shop_line(
    app: App, clock: FrozenClock
) -> None:
    """A member of Asoke buying at Sukhumvit, a voided sale, a branch closed after its sale:
    the report's branch lines still add up to its sales line."""
    people = await _chain(app)
    owner = people["owner"]
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    nok = await make_member(app, "Nok", "081-111-0002", home_branch_code="ratchada")
    await people["cash_asoke"].say(f"/sale {ploy.member_code} 120 receipt=A-1")
    await people["cash_sukh"].say(f"/sale {ploy.member_code} 80 receipt=S-1")
    await people["cash_sukh"].say(f"/sale {nok.member_code} 45 receipt=S-2")
    await owner.say(f"/sale {nok.member_code} 300 receipt=D-1 branch=dindaeng")
    await owner.say(f"/sale {nok.member_code} 55 receipt=R-1 branch=ratchada")
    clock.advance(timedelta(minutes=5))
    await people["mgr_sukh"].say("/void S-2")
    await owner.say("/branches close dindaeng")
    await owner.say("/report")
    text = owner.text()
    lines = branch_lines(text)
    assert sales_line(text) == (4, Decimal("555.00")), text
    assert lines == {
        "Din Daeng": (1, Decimal("300.00")),
        "Asoke": (1, Decimal("120.00")),
        "Sukhumvit": (1, Decimal("80.00")),
        "Ratchada": (1, Decimal("55.00")),
    }, text


async def test_a_branch_manager_report_shows_their_branch_only(app: App) -> None:
    people = await _chain(app)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await people["cash_asoke"].say(f"/sale {ploy.member_code} 120 receipt=A-1")
    await people["cash_sukh"].say(f"/sale {ploy.member_code} 80 receipt=S-1")
    manager = people["mgr_asoke"]
    await manager.say("/report")
    assert "Sukhumvit" not in manager.text(), manager.text()
    assert sales_line(manager.text()) == (1, Decimal("120.00"))


async def test_a_branch_cashier_cannot_sell_or_void_at_another_branch(app: App) -> None:
    people = await _chain(app)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="sukhumvit")
    cashier = people["cash_asoke"]
    await cashier.say(f"/sale {ploy.member_code} 120 branch=sukhumvit")
    assert "Asoke" in cashier.text() or "asoke" in cashier.text(), cashier.text()
    assert await sales(app) == []
    await people["cash_sukh"].say(f"/sale {ploy.member_code} 80 receipt=S-1")
    await cashier.say("/void S-1")
    assert "another branch" in cashier.text(), cashier.text()
    await people["mgr_asoke"].say("/void S-1")
    assert "another branch" in people["mgr_asoke"].text()
    [sale] = await sales(app)
    assert sale.voided_at is None


async def test_a_receipt_number_printed_by_two_branches_is_not_swallowed(app: App) -> None:
    """Each branch's POS numbers its own receipts: Sukhumvit's R-100 is not Asoke's R-100.
    The second is either recorded or refused in words; never passed off as already recorded."""
    people = await _chain(app)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await people["cash_asoke"].say(f"/sale {ploy.member_code} 65 receipt=R-100")
    second = people["cash_sukh"]
    await second.say(f"/sale {ploy.member_code} 65 receipt=R-100")
    sukhumvit = await ensure_branch(app, "sukhumvit")
    recorded = [sale.branch_id for sale in await sales(app)]
    refused = t("en", "sale.receipt_conflict", receipt="R-100")
    assert sukhumvit in recorded or second.text() == refused, second.text()


async def test_the_manager_alerted_of_a_low_rating_may_answer_it(
    app: App, clock: FrozenClock
) -> None:
    people = await _chain(app)
    chat, member = await member_chat(app, home_branch_code="asoke")
    await chat.say("Is there parking at Asoke?")  # an open thread, Asoke's (the home branch)
    await add_sale(app, member.id, "sukhumvit", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:1")
    alerts = await queued(app, f"feedback:{feedback.id}:low")
    told = {row.user_id for row in alerts}
    assert "ms" in told, told  # the sale's branch is told, as promised
    assert "ma" not in told, told
    [answer] = [a for row in alerts if row.user_id == "ms" for a in actions_of(row) if "ibr:" in a]
    manager = people["mgr_sukh"]
    await manager.press(answer)
    assert manager.text() != t("en", "error.not_allowed"), manager.text()


async def test_a_redemption_in_a_chain_belongs_to_a_branch(app: App) -> None:
    people = await _chain(app)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    coupon = await make_coupon(app, ploy.id)
    owner = people["owner"]
    await owner.say(f"/redeem {coupon.code}")
    [stored] = await coupon_rows(app)
    assert stored.status == "issued" or stored.redeemed_branch_id is not None, owner.text()


async def test_another_branch_s_pending_receipt_does_not_park_a_different_sale(app: App) -> None:
    people = await _chain(app)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    nok = await make_member(app, "Nok", "081-111-0002", home_branch_code="sukhumvit")
    await people["cash_asoke"].say(f"/sale {ploy.member_code} 25000 receipt=R-77")
    assert await sales(app) == []  # over the daily cap: waiting for an owner
    second = people["cash_sukh"]
    await second.say(f"/sale {nok.member_code} 120 receipt=R-77")
    waiting = t("en", "sale.awaiting_approval", receipt="R-77")
    assert second.text() != waiting, second.text()
