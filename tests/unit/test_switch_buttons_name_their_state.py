"""A switch button says the state it sets (``…:on`` / ``…:off``): pressed twice, it does what it
said once; a bare button from a card sent when switches toggled is read as off, so it never
turns anything on."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from handlers.staff.settings.actions import settings_code
from shop.automations import automation_config
from tests.unit.rewards_support import make_reward, reward_row
from tests.unit.staff_support import staff_chat


async def test_the_cards_activate_button_turns_an_inactive_reward_on_once(app: App) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    tea = await make_reward(app, cost=20)
    await owner.press(settings_code("rwt", tea.id, "off"))
    assert (await reward_row(app, tea.id)).active is False
    await owner.press(settings_code("rwt", tea.id))  # an old card's bare switch: off, as it is
    assert (await reward_row(app, tea.id)).active is False
    activate = t("en", "settings.activate")
    await owner.press_label(activate)
    await owner.press(settings_code("rwt", tea.id, "on"))  # the same button, tapped again
    assert (await reward_row(app, tea.id)).active is True
    await owner.press(settings_code("rwt", tea.id, "sideways"))
    assert owner.text() == t("en", "error.button_expired")


async def test_an_automations_switch_pressed_twice_stays_as_it_said(app: App) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    for _ in range(2):
        await owner.press(settings_code("aut", "winback", "off"))
    async with app.uow() as uow:
        assert (await automation_config(uow, "winback"))["enabled"] is False
    for _ in range(2):
        await owner.press(settings_code("aut", "winback", "on"))
    async with app.uow() as uow:
        assert (await automation_config(uow, "winback"))["enabled"] is True
    assert settings_code("aut", "winback", "off") in [
        b.action for r in owner.last for b in r.buttons
    ]
