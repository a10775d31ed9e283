"""The owner switches the bot's language (``/language``, then the ``lang:`` button) in the middle
of a settings edit that is itself about one language: the Thai birthday message, the Thai name
of a tier. What they type next is still the text they were asked for, stored in the language
the question named; the other language's text is left as it was."""

from __future__ import annotations

from bot.bootstrap import App
from handlers.customer.rewards import FLOW
from handlers.staff.settings.actions import settings_code
from shop.automations import automation_config, own_text
from shop.loyalty import load_rules
from tests.storage.loyalty_money_support import at_confirm
from tests.unit.rewards_support import coupon_rows, make_reward
from tests.unit.sales_support import balance
from tests.unit.staff_support import member_chat, staff_chat

THAI_TEXT = "สุขสันต์วันเกิดคุณ{name}"
ENGLISH_TEXT = "Happy birthday {name}"


async def _birthday_texts(app: App) -> tuple[str, str]:
    async with app.uow() as uow:
        config = await automation_config(uow, "birthday")
    return own_text(config, "th"), own_text(config, "en")


async def test_typing_the_thai_birthday_text_after_a_switch_to_english_stores_it_as_thai(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner")  # Thai; not a member of the shop
    await owner.press(settings_code("ate", "birthday", "en"))
    await owner.say(ENGLISH_TEXT)
    await owner.press(settings_code("ate", "birthday", "th"))  # "type the Thai message"
    await owner.say("/language")
    await owner.press("lang:en")
    assert "English" in owner.text() or "language" in owner.text().casefold(), owner.text()
    await owner.say(THAI_TEXT)
    assert await _birthday_texts(app) == (THAI_TEXT, ENGLISH_TEXT)


async def _tier_names(app: App, index: int) -> tuple[str, str]:
    async with app.uow() as uow:
        tier = (await load_rules(uow)).tiers[index]
    return tier.own_label("th") or "", tier.own_label("en") or ""


async def test_typing_a_tiers_thai_name_after_a_switch_to_english_names_it_in_thai(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press(settings_code("tne", "1", "th"))  # silver, "type its Thai name"
    await owner.say("/language")
    await owner.press("lang:en")
    await owner.say("ระดับเงิน")
    assert await _tier_names(app, 1) == ("ระดับเงิน", "")


async def test_the_language_switch_itself_leaves_a_members_reward_choice_standing(
    app: App,
) -> None:
    """Pins the member side: a member's language lives on the member, not in the flow, so a
    switch at the reward question neither ends it nor changes what the yes buys."""
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20)
    await at_confirm(chat, tea.id)
    await chat.say("/language")
    await chat.press("lang:en")
    await chat.press(f"{FLOW}:ok:{tea.id}")  # the Thai-labelled yes, pressed after the switch
    assert "Thai tea" in chat.text(), chat.text()
    assert len(await coupon_rows(app)) == 1
    assert await balance(app, ploy.id) == 80
