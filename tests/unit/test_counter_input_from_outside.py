"""What cashiers type at the counter, as they type it: coupon codes in lowercase, in groups, in
Thai or full-width digits (a phone keyboard's wide mode), from the QR; sale amounts with commas,
a baht sign or word, Thai or full-width digits, and the ones that must be refused with nothing
written. Driven through ``/redeem`` and ``/sale``; asserted on the coupon, the ledger, the
sales table and the reply."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from shop.coupons import display_code
from tests.chat import Chat
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.sales_support import ledger, sales
from tests.unit.staff_support import audit_rows, ensure_branch, member_chat, staff_chat

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
#: ASCII → full-width forms (U+FF01..U+FF5E), as a phone keyboard's wide mode types them
FULL_WIDTH = {ch: chr(ord(ch) + 0xFEE0) for ch in map(chr, range(0x21, 0x7F))}


def _wide(text: str) -> str:
    return "".join(FULL_WIDTH.get(ch, ch) for ch in text)


async def _counter(app: App) -> tuple[Chat, int, str]:
    """An Asoke cashier (English) and Ploy's coupon; its code."""
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    _, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    coupon = await make_coupon(app, ploy.id)
    return cashier, ploy.id, coupon.code


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda code: code.lower(), id="lowercase"),
        pytest.param(lambda code: display_code(code).replace("-", " "), id="groups-with-spaces"),
        pytest.param(lambda code: display_code(code).translate(THAI_DIGITS), id="thai-digits"),
        pytest.param(lambda code: "cpn:" + display_code(code).lower(), id="qr-payload"),
        pytest.param(lambda code: display_code(code).replace("-", "\u200b"), id="zero-width"),
    ],
)
async def test_a_coupon_typed_in_any_common_form_is_used_once(app: App, form: object) -> None:
    cashier, _, code = await _counter(app)
    typed = form(code)  # type: ignore[operator]
    await cashier.say(f"/redeem {typed}")
    assert "Free bubble tea" in cashier.text(), (typed, cashier.text())
    [coupon] = await coupon_rows(app)
    assert coupon.status == "redeemed"
    await cashier.say(f"/redeem {code}")
    assert "already" in cashier.text().casefold()


async def test_a_coupon_typed_in_full_width_characters_is_used(app: App) -> None:
    cashier, _, code = await _counter(app)
    await cashier.say(f"/redeem {_wide(display_code(code))}")
    assert "Free bubble tea" in cashier.text(), cashier.text()
    [coupon] = await coupon_rows(app)
    assert coupon.status == "redeemed"
    assert await audit_rows(app, "coupon.redeem_failed") == []


@pytest.mark.parametrize(
    ("typed", "points", "amount"),
    [
        ("฿1,250.50", 50, "1250.50"),
        ("1,250฿", 50, "1250.00"),
        ("1,250 บาท", 50, "1250.00"),
        ("๑,๒๕๐", 50, "1250.00"),
        ("１，２５０", 50, "1250.00"),
        ("๒๔.๙๙", 0, "24.99"),
    ],
)
async def test_an_amount_typed_with_commas_signs_or_thai_digits_is_recorded_as_baht(
    app: App, typed: str, points: int, amount: str
) -> None:
    cashier, ploy, _ = await _counter(app)
    await cashier.say(f"/sale 0811111111 {typed} receipt=R1")
    [sale] = await sales(app)
    assert str(sale.amount) == amount
    assert await ledger(app, ploy) == ([(points, "sale")] if points else [])


@pytest.mark.parametrize(
    "typed",
    [
        "-250",
        "−250",  # a Unicode minus
        "0",
        "0.00",
        "1,25",
        "1,000,000",
        "250.-",
        "250🍵",
        "123,456,789",
        pytest.param("9" * 30, id="thirty-digits"),  # a card number pasted into the amount
        "1e3",
        "Infinity",
    ],
)
async def test_an_amount_that_is_no_sale_is_refused_and_writes_nothing(
    app: App, typed: str
) -> None:
    cashier, ploy, _ = await _counter(app)
    await cashier.say(f"/sale 0811111111 {typed} receipt=R1")
    assert cashier.text().strip(), typed
    assert "went wrong" not in cashier.text()
    assert await sales(app) == []
    assert await ledger(app, ploy) == []
    assert await audit_rows(app, "sale.recorded") == []


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "more than 100,000 baht"), ("th", "เกิน 100,000 บาท")],
)
async def test_an_amount_of_thirty_digits_is_called_too_large_in_the_cashiers_language(
    app: App, language: str, said: str
) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code=language)
    await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await cashier.say(f"/sale 0811111111 {'9' * 30} receipt=R1")
    assert said in cashier.text(), cashier.text()
    assert await sales(app) == []
