"""/settings → The shop: the shop's name and the LINE price per message, edited by the owner,
audited, refused when bad, and used by what reads them."""

from __future__ import annotations

from decimal import Decimal

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import format_baht, t, tn
from tests.chat import Chat
from tests.domain.campaign_support import campaign_row
from tests.unit.staff_support import audit_rows, make_member, staff_chat
from tests.unit.test_campaign_wizard import _wizard


async def _stored(app: App, key: str) -> dict[str, object] | None:
    async with app.uow() as uow:
        return await uow.settings.get(key)


async def test_the_owner_names_the_shop_and_new_customers_are_welcomed_by_it(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press_label(t("th", "shopset.menu"))
    assert t("th", "shopset.not_set", default=app.settings.shop_name) in owner.text()
    await owner.press("shp:name")
    await owner.say("  ชาไทย   ป้าแดง ")
    await owner.say("Auntie Daeng's Thai Tea")
    assert t("th", "settings.saved") in owner.text()
    assert await _stored(app, "shop") == {
        "name_th": "ชาไทย ป้าแดง",
        "name_en": "Auntie Daeng's Thai Tea",
    }
    [audit] = await audit_rows(app, "settings.changed")
    assert audit.details["before"] == {"name_th": None, "name_en": None}
    assert audit.details["after"]["name_th"] == "ชาไทย ป้าแดง"

    thai = Chat(app, user_id="new-th")
    await thai.say("/start")
    assert "ชาไทย ป้าแดง" in thai.text()
    english = Chat(app, user_id="new-en", language_code="en")
    await english.say("/start")
    assert "Auntie Daeng's Thai Tea" in english.text()


async def test_a_thai_only_name_is_shown_to_english_readers_too(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("shp:name")
    await owner.say("ชาไทย ป้าแดง")
    await owner.press("shpv:skip")
    customer = Chat(app, user_id="new", language_code="en")
    await customer.say("/start")
    assert "ชาไทย ป้าแดง" in customer.text()


async def test_a_bad_name_is_refused_and_nothing_changes(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("shp:name")
    await owner.say("x" * 61)
    assert t("en", "shopset.bad_name", max=60) in owner.text()
    await owner.press("shpv:cancel")
    assert await _stored(app, "shop") is None
    assert await audit_rows(app, "settings.changed") == []


async def test_the_line_price_is_what_a_new_campaign_costs_in_its_preview(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await make_member(app, "Ploy", "081-234-5678", user_id="U1", channel=Channel.LINE)
    await owner.press("shp:price")
    await owner.say("0.25")
    assert await _stored(app, "campaign") == {"line_message_price": "0.25"}
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["before"], audit.details["after"]) == (None, "0.25")

    campaign_id = await _wizard(owner)
    assert (await campaign_row(app, campaign_id)).line_message_price == Decimal("0.25")
    await owner.say(f"/campaign preview {campaign_id}")
    price = format_baht(Decimal("0.25"), "th")
    assert tn("th", "campaign.preview_line_cost", 1, price=price, cost=price) in owner.text()


async def test_a_bad_price_is_refused_asked_again_and_changes_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("shp:price")
    await owner.say("0.1")
    await owner.press("shp:price")
    for typed in ("free", "-1", "101", "0.12345", "1e2", ""):
        await owner.say(typed)
        assert t("th", "shopset.bad_price", high="100") in owner.text()
        assert t("th", "shopset.ask_price", current="0.1 บาท") in owner.text()
    assert await _stored(app, "campaign") == {"line_message_price": "0.1"}
    assert len(await audit_rows(app, "settings.changed")) == 1
    await owner.say("๐.๐๔")  # Thai digits
    assert await _stored(app, "campaign") == {"line_message_price": "0.04"}


async def test_only_the_owner_edits_the_shop(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager")
    await manager.press("shp:price")
    assert manager.text() == t("th", "error.not_allowed")
    await manager.say("1")
    assert await _stored(app, "campaign") is None


async def test_the_member_card_carries_the_name_set_in_settings(app: App) -> None:
    """The LINE card's header used the configured name only; it follows /settings now."""
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("shp:name")
    await owner.say("ชาไทย ป้าแดง")
    await owner.say("Auntie Daeng's Thai Tea")
    await make_member(app, user_id="m1", locale="en")
    member = Chat(app, user_id="m1", language_code="en")
    [card] = [reply.card for reply in await member.say("/card") if reply.card is not None]
    assert card.shop == "Auntie Daeng's Thai Tea"
