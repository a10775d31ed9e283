"""On/off switches pressed from a card that is no longer true: a reward's [Deactivate] and an
automation's switch, both showing the state at the time the card was sent. The owner's
double tap on Telegram (two callback queries, two updates), or a second owner (or the owner's
console tab) switching it first, must not turn the thing back on: a button that says
"Deactivate" never activates, and a switch pressed twice does not undo itself.

Driven through the real Telegram webhook (updates with callback queries) and the web console
over HTTP."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from handlers.staff.settings.actions import settings_code
from shop.automations import automation_config
from simulator.fakes.telegram_updates import callback_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.admin_support import console_client, signed_in
from tests.unit.rewards_support import make_reward, reward_row
from tests.unit.staff_support import staff_chat

OWNER, SECOND = 5550001, 5550002


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def _press(tg: TelegramWorld, user: int, data: str, update_id: int) -> None:
    assert await tg.post(callback_update(update_id, user, data)) == 200


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields (but the form token) of the page's form posting to ``action``: what
    the tab would send when its button is clicked."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None, action
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1))
    return {name: html.unescape(value) for name, value in fields if name != "csrf"}


async def _winback_on(app: App) -> bool:
    async with app.uow() as uow:
        return bool((await automation_config(uow, "winback"))["enabled"])


async def test_a_double_tapped_deactivate_leaves_the_reward_off(
    app: App, tg: TelegramWorld
) -> None:
    await staff_chat(app, str(OWNER), "owner", language_code="en")
    tea = await make_reward(app, cost=20)
    await _press(tg, OWNER, settings_code("rw", tea.id), 1)  # the card: [Deactivate]
    deactivate = settings_code("rwt", tea.id)
    await _press(tg, OWNER, deactivate, 2)
    await _press(tg, OWNER, deactivate, 3)  # the same button, tapped again
    assert (await reward_row(app, tea.id)).active is False


async def test_deactivate_from_a_card_sent_before_a_second_owner_switched_it_off(
    app: App, tg: TelegramWorld
) -> None:
    await staff_chat(app, str(OWNER), "owner", language_code="en")
    await staff_chat(app, str(SECOND), "owner", language_code="th")
    tea = await make_reward(app, cost=20)
    await _press(tg, OWNER, settings_code("rw", tea.id), 1)  # both see [Deactivate]
    await _press(tg, SECOND, settings_code("rw", tea.id), 2)
    await _press(tg, SECOND, settings_code("rwt", tea.id), 3)
    await _press(tg, OWNER, settings_code("rwt", tea.id), 4)
    assert (await reward_row(app, tea.id)).active is False


async def test_an_automation_switched_off_in_chat_and_on_an_open_console_tab_stays_off(
    app: App, tg: TelegramWorld
) -> None:
    owner = await staff_chat(app, str(OWNER), "owner", language_code="en")
    assert await _winback_on(app)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        switch = "/admin/settings/automations/winback/switch"
        tab = await browser.get("/admin/settings")  # the tab shows win-back on, with its switch
        fields = _form_fields(await tab.text(), switch)
        await _press(tg, OWNER, settings_code("aut", "winback"), 1)  # off, from the chat
        assert not await _winback_on(app)
        switched = await browser.post(switch, fields)  # the tab's "Turn off", clicked now
        assert switched.status in (200, 303)
    assert not await _winback_on(app)
