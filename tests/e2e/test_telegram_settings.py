"""Telegram, over the webhook and the fake Bot API: an owner walks /settings by its buttons to
rename a tier and change the quiet hours; a member's /points shows the new name. Every button
the pages send fits Telegram's 64-byte callback data."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.cli_staff import invite_lines
from bot.core.messages import Channel
from bot.i18n import t
from simulator.fakes.telegram_updates import callback_update, text_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.settings_support import stored
from tests.unit.staff_support import make_member

OWNER = 7780001
MEMBER = 7780002
_updates = itertools.count(9000)


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def say(tg: TelegramWorld, user: int, text: str) -> None:
    assert await tg.post(text_update(next(_updates), user, text)) == 200


async def press(tg: TelegramWorld, user: int, label: str) -> None:
    """Press the button labelled ``label`` in the last message that had buttons."""
    with_buttons = [call for call in tg.fake.sent(user) if call.callback_data()]
    data = with_buttons[-1].callback_data()[label]
    assert await tg.post(callback_update(next(_updates), user, data)) == 200


def every_callback(tg: TelegramWorld, user: int) -> list[str]:
    return [data for call in tg.fake.sent(user) for data in call.callback_data().values()]


async def test_an_owner_renames_a_tier_and_sets_quiet_hours_by_buttons(tg: TelegramWorld) -> None:
    await make_member(tg.app, "Ploy", user_id=str(MEMBER), channel=Channel.TELEGRAM, points=10)
    code = (await invite_lines(tg.app, "owner", None, 7))[-1]
    await say(tg, OWNER, f"/claim {code}")
    await say(tg, OWNER, "/settings")
    await press(tg, OWNER, "🏷️ ชื่อระดับสมาชิก")
    await press(tg, OWNER, t("th", "prefs.tier_edit_th", tier=t("th", "points.tier_member")))
    await say(tg, OWNER, "ลูกค้าคนพิเศษ")
    await press(tg, OWNER, "ย้อนกลับ")
    await press(tg, OWNER, "🔕 ช่วงงดส่งและโควตา")
    await press(tg, OWNER, "ช่วงงดส่ง")
    await say(tg, OWNER, "22:00-08:00")
    assert "22:00–08:00" in tg.fake.sent(OWNER)[-1].text
    assert (await stored(tg.app, "contact_policy"))["quiet_hours"] == ["22:00", "08:00"]
    assert all(len(data.encode()) <= 64 for data in every_callback(tg, OWNER))

    await say(tg, MEMBER, "/points")
    assert "ลูกค้าคนพิเศษ" in tg.fake.sent(MEMBER)[-1].text
