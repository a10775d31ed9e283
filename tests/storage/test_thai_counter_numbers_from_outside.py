"""Numbers as Thai shop staff type them, beyond the coupon codes and sale amounts the counter's
own tests cover: points given or taken with ``/adjust`` (a Unicode minus from a phone's
keyboard, Thai digits, a thousands comma), amounts written the European way or with spaces
between the phone's digit groups, and the loyalty numbers an owner types on the console's
settings page. Each is understood, or refused in the typist's language with nothing written —
never read as another number."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.admin_support import console_client, signed_in
from tests.unit.sales_support import ledger, sales
from tests.unit.settings_support import stored
from tests.unit.staff_support import audit_rows, ensure_branch, make_member, staff_chat


@pytest.mark.parametrize(
    ("typed", "points"),
    [
        ("+50", 50),
        ("50", 50),
        ("−30", -30),  # U+2212, what some phone keyboards put on the minus key
        ("-30", -30),
        ("๕๐", 50),
        ("+๕๐", 50),
        ("−๓๐", -30),
        ("+2,500", 2500),
        ("+๑,๐๐๐", 1000),
    ],
)
async def test_points_given_or_taken_as_typed_on_a_thai_phone_are_written_once(
    app: App, typed: str, points: int
) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    ploy = await make_member(app, "Ploy", "0812345678", user_id="m1", points=100)
    await manager.say(f"/adjust {ploy.member_code} {typed} ให้เพิ่มตามที่ตกลง")
    assert await ledger(app, ploy.id) == [(100, "welcome"), (points, "adjust")], manager.text()
    [entry] = await audit_rows(app, "points.adjusted")
    assert entry.details["reason"] == "ให้เพิ่มตามที่ตกลง"


@pytest.mark.parametrize(
    "typed", ["+0", "–50", "+5.5", "+50แต้ม", "+" + "9" * 20, "+1,0", "+1,000,000,000"]
)
async def test_points_that_are_no_whole_change_are_refused_with_nothing_written(
    app: App, typed: str
) -> None:
    """Zero, an en dash (not a minus), a fraction, a unit glued on, twenty digits, a comma
    between no thousands, ten digits."""
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, "Ploy", "0812345678", user_id="m1", points=100)
    await manager.say(f"/adjust {ploy.member_code} {typed} เหตุผล")
    assert manager.text().strip(), typed
    assert "ผิดพลาด" not in manager.text()  # no "something went wrong"
    assert await ledger(app, ploy.id) == [(100, "welcome")]
    assert await audit_rows(app, "points.adjusted") == []


async def test_a_thousand_points_typed_with_a_thousands_comma_are_given(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    ploy = await make_member(app, "Ploy", "0812345678", user_id="m1", points=100)
    await manager.say(f"/adjust {ploy.member_code} +1,000 ชดเชยแต้มที่หาย")
    assert manager.text() != t("en", "adjust.usage")
    assert await ledger(app, ploy.id) == [(100, "welcome"), (1000, "adjust")]


@pytest.mark.parametrize(
    ("typed", "language", "said"),
    [
        ("0811111111 1.250,50", "en", '"1.250,50" is not an amount'),
        ("0811111111 1.250,50", "th", "1.250,50"),
        ("081 111 1111 1 250", "en", "No member found"),
        ("0811111111 1 250", "en", "No member found"),
        ("0811111111 120.-", "th", "120.-"),
        ("0811111111 THB120", "en", '"THB120" is not an amount'),
    ],
)
async def test_an_amount_in_a_foreign_or_spaced_form_is_refused_not_misread(
    app: App, typed: str, language: str, said: str
) -> None:
    """``1.250,50`` is never 1.25 or 125,050; ``1 250`` is never a sale of 1 baht with the rest
    taken as part of the member; the refusal names what was typed, in the cashier's language."""
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code=language)
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    await cashier.say(f"/sale {typed} receipt=R1")
    assert said in cashier.text(), cashier.text()
    if language == "th":
        assert "not an amount" not in cashier.text()
    assert await sales(app) == []
    assert await audit_rows(app, "sale.recorded") == []


@pytest.mark.parametrize(
    ("typed", "amount", "points"),
    [
        ("120 THB", "120.00", 4),
        ("๑๒๐", "120.00", 4),
        ("๑,๒๕๐.๕๐", "1250.50", 50),
    ],
)
async def test_a_thai_phone_number_and_amount_both_in_thai_digits_record_one_sale(
    app: App, typed: str, amount: str, points: int
) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    await cashier.say(f"/sale ๐๘๑-๑๑๑-๑๑๑๑ {typed} receipt=ร้าน๐๑")
    [sale] = await sales(app)
    assert (str(sale.amount), sale.receipt_no) == (amount, "ร้าน01"), cashier.text()
    assert await ledger(app, ploy.id) == [(points, "sale")]


async def _post_rule(app: App, value: str) -> tuple[int, str]:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        answer = await browser.post(
            "/admin/settings/rules", {"field": "baht_per_point", "value": value}
        )
        return answer.status, await answer.text()


@pytest.mark.parametrize(("typed", "kept"), [("๒๕", "25"), ("25.50", "25.50"), ("1,000", "1000")])
async def test_baht_per_point_typed_on_the_console_is_kept_as_typed(
    app: App, typed: str, kept: str
) -> None:
    status, _ = await _post_rule(app, typed)
    assert status == 303
    assert (await stored(app, "loyalty"))["baht_per_point"] == kept


@pytest.mark.parametrize("typed", ["25 บาท", "１０", "0"])
async def test_baht_per_point_the_console_cannot_read_is_refused_and_nothing_saved(
    app: App, typed: str
) -> None:
    status, _ = await _post_rule(app, typed)
    assert status == 400
    assert await stored(app, "loyalty") is None
    assert await audit_rows(app, "settings.changed") == []


async def test_baht_per_point_with_a_decimal_comma_is_not_saved_as_ten_times_more(
    app: App,
) -> None:
    status, page = await _post_rule(app, "1,5")
    assert status == 400
    assert "a comma only separates thousands" in page, page
    assert await stored(app, "loyalty") is None


@pytest.mark.parametrize(("language", "said"), [("th", "คั่นหลักพันเท่านั้น"), ("en", "1.5")])
async def test_a_reward_cost_with_a_decimal_comma_is_refused_in_the_owners_language(
    app: App, language: str, said: str
) -> None:
    """``1,25`` is not 125 points: the settings' one number reading says why, on the console
    form as in the chat's /settings."""
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    form = {"name_th": "เค้ก", "name_en": "Cake", "cost": "1,25", "stock": "", "starts": ""}
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        refused = await browser.post(
            "/admin/settings/rewards/add", {**form, "ends": "", "branch": "asoke", "days": ""}
        )
        assert refused.status == 400
        assert said in await refused.text()
    async with app.uow() as uow:
        assert await uow.rewards.all() == []


async def test_a_reward_cost_in_thai_digits_with_a_thousands_comma_is_saved(app: App) -> None:
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    form = {
        "name_th": "เค้กฟรี <b>1</b> ชิ้น",
        "name_en": "Free <b>cake</b> & tea",
        "cost": "๑,๐๐๐",
        "stock": "",
        "starts": "",
        "ends": "",
        "branch": "asoke",
        "days": "",
    }
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        saved = await browser.post("/admin/settings/rewards/add", form)
        assert saved.status == 303, await saved.text()
        refused = await browser.post("/admin/settings/rewards/add", {**form, "cost": "1.000"})
        assert refused.status == 400
        page = await (await browser.get("/admin/settings")).text()
    assert "Free &lt;b&gt;cake&lt;/b&gt; &amp; tea" in page
    async with app.uow() as uow:
        [reward] = await uow.rewards.all()
    assert reward.points_cost == 1000
