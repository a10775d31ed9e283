"""/deleteme through real Telegram webhooks, from outside: a member signs up, writes to the shop
and is sold to by a cashier (whose answers name her) — every reply going through the real
channel and its reply courier, not a test harness. After her erasure none of her name, phone
or words may be left in any table, the cashier's answers included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.e2e.telegram_world import TelegramWorld, telegram_world_with_branch
from tests.e2e.test_erasure_sweep import _found_in_tables
from tests.e2e.test_personal_data_in_logs import (
    CASHIER,
    MEMBER,
    NAME,
    PHONE_DIGITS,
    PHONE_TYPED,
    WORDS,
    Person,
    _sign_up,
)
from tests.unit.staff_support import make_staff


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world_with_branch(app) as world:
        yield world


async def test_after_deleteme_the_cashiers_answers_hold_nothing_of_her(tg: TelegramWorld) -> None:
    me, cashier = Person(tg, MEMBER), Person(tg, CASHIER)
    await make_staff(tg.app, str(CASHIER), "cashier", "asoke")
    await _sign_up(me)
    assert await me.say(WORDS)
    answer = await cashier.say(f"/sale {PHONE_TYPED} 250")
    assert any("Kanyaratzz" in (m.text or "") for m in answer)  # the cashier saw her name
    await cashier.say(f"/customer {PHONE_TYPED}")
    shown = await me.say("/deleteme")
    assert await me.press(shown, t("th", "privacy.delete_yes"))

    traces = (NAME, "Kanyaratzz", PHONE_TYPED, *PHONE_DIGITS, "Thonglor")
    assert await _found_in_tables(tg.app, traces) == []
