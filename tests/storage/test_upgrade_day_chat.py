"""Upgrade day, in the chat and the console: what people were in the middle of with chatcrm
6377c7e (schema 0019) goes on, or asks again cleanly, after this chatcrm upgraded the shop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from tests.chat import Chat
from tests.storage.upgrade_day_support import (
    MORNING,
    NIGHT,
    NOTES,
    SOON,
    old_shop,
    scalar,
    upgraded_app,
)
from tests.unit.admin_support import Browser, console_client, open_link

pytestmark = pytest.mark.db

CODES = NOTES["codes"]
#: the session cookie the old release's console set when the owner signed in
OLD_SESSION = re.search(r"=([^;]+)", NOTES["session_cookie"]).group(1)  # type: ignore[union-attr]


async def test_a_sign_up_left_at_the_phone_goes_on_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uphalf") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(SOON))
        half = Chat(app, user_id="up-m4", language_code="en", display_name="Half")
        await half.say("081-900-0004")
        await half.say("01/05/1990")
        replies = await half.press("su:g:female")
        if any(b.action.startswith("su:b:") for r in replies for b in r.buttons):
            await half.press("su:b:skip")
        joined = "SELECT COUNT(*) FROM members WHERE name = 'Half Way' AND phone = '+66819000004'"
        assert await scalar(engine, joined) == 1


async def test_a_sign_up_that_lapsed_overnight_says_its_old_button_expired(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uplapsed") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        half = Chat(app, user_id="up-m4", language_code="en", display_name="Half")
        await half.press("su:g:female")
        assert half.text() == t("en", "error.button_expired")
        await half.say("/start")
        assert any(b.action == "su:join" for r in half.last for b in r.buttons)


async def test_the_old_reward_buttons_still_answer_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uprw") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        ploy = Chat(app, user_id="up-m1", language_code="en")
        for action in NOTES["rewards_buttons"]:
            replies = await ploy.press(action)
            assert replies, action
            assert t("en", "error.internal") not in ploy.text()


async def test_an_erased_members_old_delete_button_changes_nothing(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uperase") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        erased = "SELECT COUNT(*) FROM members WHERE erased_at IS NOT NULL"
        before = await scalar(engine, erased)
        gone = Chat(app, user_id="up-m3", language_code="en")
        await gone.press(NOTES["deleteme_pressed"])
        assert t("en", "error.internal") not in gone.text()
        assert await scalar(engine, erased) == before
        named = "SELECT COUNT(*) FROM members WHERE name = 'Gone Upgrade'"
        assert await scalar(engine, named) == 0


async def test_the_open_inbox_thread_can_be_answered_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upinbox") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.say("/inbox")
        assert t("en", "error.internal") not in owner.text()
        assert "oat milk" in owner.text()


async def test_the_console_session_of_the_old_release_still_opens_the_console(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upsession") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(SOON))
        async with console_client(app) as client:
            browser = Browser(client, OLD_SESSION)
            assert (await browser.get("/admin/")).status == 200
            assert (await browser.post("/admin/signout", {})).status == 303  # its form token too
            assert (await browser.get("/admin/")).status == 401


async def test_an_old_session_that_lapsed_overnight_asks_to_sign_in_again(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uplapsedsession") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        async with console_client(app) as client:
            answer = await Browser(client, OLD_SESSION).get("/admin/")
            assert answer.status == 401
            assert "/dashboard" in await answer.text()


async def test_the_unused_sign_in_link_of_the_old_release_still_signs_in(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "uplink") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(SOON))
        async with console_client(app) as client:
            response = await open_link(client, NOTES["unused_link"])
            assert response.status == 303, await response.text()


async def test_old_campaign_stats_read_the_same_from_the_chat_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upstats") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(NIGHT))
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.say(f"/stats {NOTES['campaign_sent']}")
        assert t("en", "error.internal") not in owner.text()
        assert "Old tea" in owner.text()


async def test_the_nok_line_member_checks_points_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upline") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        nok = Chat(app, user_id="up-m2", channel=Channel.LINE, language_code="en")
        await nok.say("/points")
        balance = await scalar(
            engine, "SELECT points_balance FROM members WHERE member_code = :c", c=CODES["Nok"]
        )
        assert str(balance) in nok.text()
