"""Receipt numbers and coupon codes as a Thai till and a Thai keyboard produce them: a receipt
with Thai letters and Thai digits, typed in a phone's wide mode, named with the Thai option
word; voided later typed another way; and coupon codes typed with look-alike letters (Cyrillic
from a copied message, Thai from a keyboard left in Thai mode). The same printed receipt is
one sale whatever way it was typed; a code that is no coupon is refused in the cashier's
language and nothing is redeemed."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from shop.coupons import display_code
from tests.chat import Chat
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.sales_support import balance, ledger, sales
from tests.unit.staff_support import audit_rows, ensure_branch, make_member, staff_chat

PHONE = "0811111111"


async def _counter(app: App, language: str = "en") -> tuple[Chat, int]:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code=language)
    ploy = await make_member(app, "Ploy", PHONE, user_id="m1")
    return cashier, ploy.id


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("ร้าน๐๑", "ร้าน01"),
        ("INV-2569/001", "ＩＮＶ－２５６９／００１"),  # a phone keyboard's wide mode
        ("R1", "Ｒ１"),
    ],
)
async def test_one_printed_receipt_typed_two_ways_is_one_sale(
    app: App, first: str, again: str
) -> None:
    cashier, ploy = await _counter(app)
    await cashier.say(f"/sale {PHONE} 120 receipt={first}")
    await cashier.say(f"/sale {PHONE} 120 receipt={again}")
    assert "already recorded" in cashier.text(), cashier.text()
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy) == [(4, "sale")]


async def test_a_receipt_named_with_the_thai_option_word_is_recorded_and_voided(
    app: App,
) -> None:
    cashier, ploy = await _counter(app, "th")
    manager = await staff_chat(app, "m1", "manager", "asoke", language_code="th")
    await cashier.say(f"/sale {PHONE} 120 ใบเสร็จ=ร้าน๐๒")
    [sale] = await sales(app)
    assert sale.receipt_no == "ร้าน02", cashier.text()
    await manager.say("/void ร้าน๐๒")  # typed in Thai digits again
    assert "ร้าน02" in manager.text(), manager.text()
    [sale] = await sales(app)
    assert sale.voided_at is not None
    assert await balance(app, ploy) == 0


async def test_a_receipt_typed_in_lower_case_is_the_same_receipt(app: App) -> None:
    cashier, ploy = await _counter(app)
    await cashier.say(f"/sale {PHONE} 120 receipt=INV-001")
    await cashier.say(f"/sale {PHONE} 120 receipt=inv-001")
    assert len(await sales(app)) == 1, cashier.text()
    assert await ledger(app, ploy) == [(4, "sale")]


#: Latin capitals and the Cyrillic letters drawn the same
_CYRILLIC = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
#: the Thai (Kedmanee) letters on the keys of a-z: a code typed with the keyboard left in Thai
_KEDMANEE = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ฟิแกำดเ้ร่าสทืนยๆพหะีอไปัผ")


@pytest.mark.parametrize(
    ("form", "language", "said"),
    [
        (lambda code: code.translate(_CYRILLIC), "th", "redeem.not_found"),
        (lambda code: code.lower().translate(_KEDMANEE), "th", "redeem.not_found"),
        (lambda code: code.replace("-", "")[:-1], "en", "redeem.not_found"),
    ],
    ids=["cyrillic-look-alikes", "thai-keyboard-mode", "one-character-short"],
)
async def test_a_code_that_is_no_coupon_is_refused_and_nothing_redeemed(
    app: App, form: object, language: str, said: str
) -> None:
    cashier, ploy = await _counter(app, language)
    coupon = await make_coupon(app, ploy)
    code = display_code(coupon.code)
    typed = form(code)  # type: ignore[operator]
    if typed == code:  # a code with no letter Cyrillic can draw: nothing to test
        pytest.skip("no look-alike letter in this code")
    await cashier.say(f"/redeem {typed}")
    assert cashier.text() == t(language, said), cashier.text()
    [row] = await coupon_rows(app)
    assert row.status == "issued"
    assert await audit_rows(app, "coupon.redeemed") == []
