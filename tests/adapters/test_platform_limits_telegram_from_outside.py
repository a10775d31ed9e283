"""The hostile shop of :mod:`tests.adapters.test_platform_limits_from_outside`, driven through
Telegram webhooks: every send the fake Bot API records must be one the real API accepts
(:func:`tests.adapters.platform_limits.telegram_call_problems`)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import App
from simulator.fakes.telegram_api import Call
from simulator.fakes.telegram_updates import callback_update, text_update
from tests.adapters.platform_limits import telegram_call_problems
from tests.adapters.test_platform_limits_from_outside import MEMBER_NAME, hostile_shop
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_member, make_staff

#: a web server and the fake Bot API per test: seconds, not milliseconds
pytestmark = pytest.mark.e2e

MEMBER = 7_360_001
OWNER = 7_360_002


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


class TelegramUser:
    def __init__(self, tg: TelegramWorld, user: int) -> None:
        self.tg, self.user = tg, user
        self.update_ids = itertools.count(user * 10)

    async def _post(self, update: dict[str, Any]) -> list[Call]:
        before = len(self.tg.fake.calls)
        assert await self.tg.post(update) == 200
        sends = [c for c in self.tg.fake.calls[before:] if c.method.startswith("send")]
        for call in sends:
            assert telegram_call_problems(call) == [], call.params
            assert call.status == 200, call.params
        return sends

    async def say(self, text: str) -> list[Call]:
        return await self._post(text_update(next(self.update_ids), self.user, text))

    async def press(self, data: str) -> list[Call]:
        return await self._post(callback_update(next(self.update_ids), self.user, data))


def data_of(calls: list[Call], part: str) -> list[str]:
    return [d for call in calls for d in call.callback_data().values() if part in d]


async def test_thirty_long_thai_rewards_listed_picked_and_bought_within_telegram_limits(
    tg: TelegramWorld, app: App
) -> None:
    await hostile_shop(app)
    await make_member(app, MEMBER_NAME, user_id=str(MEMBER), points=100_000)
    member = TelegramUser(tg, MEMBER)
    listed = await member.say("/rewards")
    picks = data_of(listed, ":pick:")
    assert len(picks) == 20  # the first page of 30
    [turn] = data_of(listed, ":page:")
    picks = data_of(await member.press(turn), ":pick:")
    assert len(picks) == 10  # the second and last page
    [ok] = data_of(await member.press(picks[-1]), ":ok:")
    assert await member.press(ok)
    assert await member.say("/coupons")
    assert await member.say("/card")


async def test_sixty_branch_pickers_stay_within_telegram_limits(
    tg: TelegramWorld, app: App
) -> None:
    await hostile_shop(app, rewards=0, branches=60)
    await make_member(app, MEMBER_NAME, user_id=str(MEMBER), points=10)
    await make_staff(app, str(OWNER), "owner", name=MEMBER_NAME)
    member, owner = TelegramUser(tg, MEMBER), TelegramUser(tg, OWNER)
    [edit_branch] = [d for d in data_of(await member.say("/profile"), "") if d.endswith("branch")]
    page, offered = await member.press(edit_branch), set()
    for _ in range(3):  # 20 branches a page, each page a keyboard Telegram takes
        offered |= set(data_of(page, ":b:"))
        [turn] = data_of(page, ":bp:")
        page = await member.press(turn)
    assert len(offered) == 61  # every branch, and "skip"
    page, listed = await owner.say("/segment new"), set()
    for _ in range(3):
        listed |= set(data_of(page, ":b:b"))
        [turn] = data_of(page, "segw:p:")
        page = await owner.press(turn)
    assert len(listed) == 60
    assert await owner.say("/branches")
