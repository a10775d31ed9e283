"""``/sale``: points by rule and tier, the member's receipt, idempotent receipts, branches."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.bootstrap import App
from bot.core.errors import InvalidInput
from bot.i18n import t
from handlers.staff.sales import parse_amount, split_sale_args
from shop.loyalty import LoyaltyRules
from tests.chat import Chat
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def _shop(app: App) -> Chat:
    await ensure_branches(app, ("asoke", "ratchada"))
    return await staff_chat(app, "c1", "cashier", "asoke", name="Nok")


async def test_a_sale_credits_points_and_confirms_to_the_cashier(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await cashier.say("/sale 081-234-5678 260 receipt=R1")
    [sale] = await sales(app)
    assert (sale.amount, sale.receipt_no, sale.member_id) == (Decimal("260.00"), "R1", ploy.id)
    assert await ledger(app, ploy.id) == [(10, "sale")]
    assert cashier.text() == t(
        "th",
        "sale.recorded",
        member=f"Ploy ({ploy.member_code})",
        amount="260 บาท",
        branch="อโศก",
        points="10",
        balance="10",
        receipt="R1",
    )


async def test_the_receipt_goes_to_the_member_in_the_members_language(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, "Ploy", user_id="m1", locale="en")
    await cashier.say(f"/sale {ploy.member_code} 120.50 receipt=R1")
    [sale] = await sales(app)
    [row] = await queued(app, f"receipt:{sale.id}")
    assert (row.channel, row.user_id, row.member_id) == ("telegram", "m1", ploy.id)
    assert texts(row) == t(
        "en",
        "sale.receipt",
        branch="Asoke",
        amount="฿120.50",
        points="4",
        balance="4",
        receipt="R1",
    )


async def test_the_same_receipt_twice_records_one_sale_and_says_so(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R1")
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R1")
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy.id) == [(4, "sale")]
    assert cashier.text() == t(
        "th",
        "sale.duplicate",
        receipt="R1",
        member=f"Ploy ({ploy.member_code})",
        amount="100 บาท",
        points="4",
    )
    assert len(await audit_rows(app, "sale.recorded")) == 1


async def test_the_same_receipt_with_another_amount_is_a_conflict(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R1")
    await cashier.say(f"/sale {ploy.member_code} 150 receipt=R1")
    assert cashier.text() == t("th", "sale.receipt_conflict", receipt="R1")
    [sale] = await sales(app)
    assert sale.amount == Decimal("100.00")
    assert await balance(app, ploy.id) == 4


async def test_a_receipt_number_is_generated_with_branch_and_shop_date(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100")
    [sale] = await sales(app)
    assert sale.receipt_no.startswith("ASOKE-20260303-")
    assert len(sale.receipt_no) == len("ASOKE-20260303-") + 6


async def test_a_phone_with_spaces_categories_and_a_currency_word_are_understood(app: App) -> None:
    cashier = await _shop(app)
    await make_member(app, phone="081-234-5678", user_id="m1")
    await cashier.say("/sale +66 81 234 5678 ๑,๒๕๐ บาท cat=Tea,snack")
    [sale] = await sales(app)
    assert (sale.amount, sale.categories) == (Decimal("1250.00"), "tea,snack")


async def test_a_higher_tier_earns_its_multiplier_rounded_down(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    owner = await staff_chat(app, "o1", "owner")
    await owner.say(f"/sale {ploy.member_code} 10000 branch=asoke")  # now gold: 1.5×
    await cashier.say(f"/sale {ploy.member_code} 110")
    assert await ledger(app, ploy.id) == [(400, "sale"), (6, "sale")]  # 4 × 1.5 = 6


async def test_crossing_a_threshold_queues_a_tier_up_message(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 2900")
    assert await queued(app, "tierup:") == []
    await cashier.say(f"/sale {ploy.member_code} 200")
    [row] = await queued(app, f"tierup:{ploy.id}:silver:")
    assert texts(row) == t("th", "tier.up", tier=t("th", "points.tier_silver"), multiplier="1.25")
    assert t("th", "tier.up_staff", tier=t("th", "points.tier_silver")) in cashier.text()


async def test_a_tier_crossed_again_the_same_day_is_announced_once(app: App) -> None:
    """The sale that crossed Silver is voided and made again: the member heard it already."""
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 2900")
    await cashier.say(f"/sale {ploy.member_code} 200 receipt=R1")
    await cashier.say("/void R1")
    await cashier.say(f"/sale {ploy.member_code} 200 receipt=R2")
    assert len(await queued(app, f"tierup:{ploy.id}:silver:")) == 1
    assert t("th", "tier.up_staff", tier=t("th", "points.tier_silver")) in cashier.text()


async def test_the_sale_is_audited_with_balances_before_and_after(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1", points=50)
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R9")
    [entry] = await audit_rows(app, "sale.recorded")
    assert entry.member_id == ploy.id
    assert entry.actor.startswith("staff:")
    assert entry.details == {
        "receipt": "R9",
        "amount": "100.00",
        "points": 4,
        "balance_before": 50,
        "balance_after": 54,
        "branch": "asoke",
    }


async def test_a_scoped_cashier_cannot_record_for_another_branch(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100 branch=ratchada")
    assert cashier.text() == t("th", "sale.other_branch", branch="asoke")
    assert await sales(app) == []


async def test_staff_of_every_branch_must_name_one_when_the_shop_has_several(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1")
    await manager.say(f"/sale {ploy.member_code} 100")
    assert manager.text() == t("th", "sale.branch_required", branches="asoke, ratchada")
    await manager.say(f"/sale {ploy.member_code} 100 branch=RATCHADA")
    [sale] = await sales(app)
    assert sale.branch_id == branches["ratchada"]


async def test_a_customer_cannot_record_a_sale(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    ploy = await make_member(app, user_id="m1")
    customer = Chat(app, user_id="m1")
    await customer.say(f"/sale {ploy.member_code} 5000")
    assert customer.text() == t("th", "error.not_allowed")
    assert await sales(app) == []
    assert await ledger(app, ploy.id) == []


async def test_an_unknown_member_is_named_back(app: App) -> None:
    cashier = await _shop(app)
    await cashier.say("/sale 089-999-9999 100")
    assert cashier.text() == t("th", "error.no_member_with_phone", query="089-999-9999")


async def test_without_arguments_the_cashier_gets_the_usage(app: App) -> None:
    cashier = await _shop(app)
    await cashier.say("/sale")
    assert cashier.text() == t("th", "sale.usage")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("120", "120"),
        ("120.50", "120.50"),
        ("1,250", "1250"),
        ("๑๒๐", "120"),
        ("฿99.9", "99.90"),
        ("100000", "100000"),
    ],
)
def test_amounts_are_read_as_baht(typed: str, amount: str) -> None:
    assert parse_amount(typed, LoyaltyRules()) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("0", "sale.amount_positive"),
        ("-50", "sale.amount_positive"),
        ("12.345", "sale.amount_decimals"),
        ("100000.01", "sale.amount_too_large"),
        ("9" * 30, "sale.amount_too_large"),  # more digits than the decimal context holds
        ("9" * 30 + ".5", "sale.amount_too_large"),
        ("1." + "0" * 30 + "1", "sale.amount_decimals"),
        ("abc", "sale.amount_invalid"),
        ("1,25", "sale.amount_invalid"),
        ("1e5", "sale.amount_invalid"),
        ("NaN", "sale.amount_invalid"),
    ],
)
def test_unusable_amounts_are_refused_with_a_reason(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed, LoyaltyRules())
    assert refused.value.key == key


def test_the_cap_on_one_sale_is_configurable() -> None:
    rules = LoyaltyRules.from_setting({"max_sale_amount": 500})
    with pytest.raises(InvalidInput):
        parse_amount("501", rules)


def test_options_may_come_anywhere_and_the_amount_is_the_last_other_word() -> None:
    assert split_sale_args("receipt=R1 081 234 5678 120 cat=a") == (
        "081 234 5678",
        "120",
        {"receipt": "R1", "cat": "a"},
    )


async def test_a_referred_members_first_sale_pays_the_referral_once(app: App) -> None:
    cashier = await _shop(app)
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    nok = await make_member(app, "Nok", "089-999-0000", user_id="m2")
    async with app.uow() as uow:
        row = await uow.members.get(nok.id)
        assert row is not None
        row.referred_by_code = ploy.member_code
        await uow.commit()
    await cashier.say(f"/sale {nok.member_code} 250 receipt=R1")
    await cashier.say(f"/sale {nok.member_code} 250 receipt=R1")
    await cashier.say(f"/sale {nok.member_code} 250 receipt=R2")
    assert await ledger(app, ploy.id) == [(100, "referral")]
    assert await ledger(app, nok.id) == [(10, "sale"), (100, "referral"), (10, "sale")]
