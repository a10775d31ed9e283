"""An operator rotates a running shop's credentials: LINE's channel access token is reissued
(the old one revoked at once) or Telegram's bot token is revoked in @BotFather, while ``serve``
still runs with the old one. The member who wrote meanwhile was answered 200; their answer must
not be lost for good, and the log must name the setting to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.messages import Channel
from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving
from simulator.fakes.telegram_updates import text_update
from tests.e2e.operator_month_support import (
    points_event,
    post_line,
    post_telegram,
    run_cli,
    seed_member,
    start_serve,
    stop_serve,
    until,
)
from tests.e2e.operator_support import sqlite_url

pytestmark = pytest.mark.e2e

LINE_USER = "U1b2c3d4e5f60718293a4b5c6d7e8f901"
OLD_LINE_TOKEN, NEW_LINE_TOKEN = "line-token-before-the-reissue", "line-token-after-the-reissue"
#: the same bot (same id), its token revoked in @BotFather and a new one issued
OLD_TELEGRAM_TOKEN = "123456789:AAE-revoked-token_abcdefghijklmnopq"
TG_USER, TG_SECRET = 424242, "month-webhook-secret"


async def _not_failed_for_good(tmp_path: Path, channel: str) -> None:
    """``chatcrm status``: the refused answer waits to be sent, not written off."""
    code, out, err = await run_cli(
        tmp_path, "status", "--json", CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db")
    )
    assert code == 0, err[-2000:]
    assert json.loads(out)["outbox"][channel]["failed"] == 0, out


def _line(tmp_path: Path, api: FakeLineApi, token: str) -> dict[str, str]:
    return {
        "CHATCRM_DATABASE_URL": sqlite_url(tmp_path / "shop.db"),
        "CHATCRM_PUBLIC_URL": "http://127.0.0.1:9",
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": token,
        "LINE_API_BASE": api.base_url,
        "LINE_DATA_API_BASE": api.base_url,
    }


async def _line_answer_refused_for_the_old_token(tmp_path: Path, api: FakeLineApi) -> str:
    """``serve`` on the old token; the member asks for points (answered 200); LINE refuses the
    answer 401. Returns serve's log."""
    await seed_member(tmp_path / "shop.db", Channel.LINE, LINE_USER, points=120)
    serve = await start_serve(tmp_path, "serve-old", **_line(tmp_path, api, OLD_LINE_TOKEN))
    try:
        event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
        assert await post_line(serve.port, [event], CHANNEL_SECRET) == 200
        await until(lambda: " failed: " in serve.text(), "LINE refused the answer")
    finally:
        await stop_serve(serve)
    assert not api.messages_to(LINE_USER)
    return serve.text()


async def test_a_revoked_line_token_is_named_in_serves_log(tmp_path: Path) -> None:
    api = FakeLineApi(access_token=NEW_LINE_TOKEN)
    async with api.running():
        log = await _line_answer_refused_for_the_old_token(tmp_path, api)
    assert "LINE_CHANNEL_ACCESS_TOKEN" in log, log[-3000:]


async def test_an_answer_refused_for_a_revoked_line_token_arrives_after_the_restart(
    tmp_path: Path,
) -> None:
    api = FakeLineApi(access_token=NEW_LINE_TOKEN)
    async with api.running():
        await _line_answer_refused_for_the_old_token(tmp_path, api)
        await _not_failed_for_good(tmp_path, "line")
        serve = await start_serve(tmp_path, "serve-new", **_line(tmp_path, api, NEW_LINE_TOKEN))
        try:
            await until(lambda: api.messages_to(LINE_USER), "the answer pushed with the new token")
        finally:
            await stop_serve(serve)


def _telegram(tmp_path: Path, base: str, token: str) -> dict[str, str]:
    return {
        "CHATCRM_DATABASE_URL": sqlite_url(tmp_path / "shop.db"),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_BASE": base,
    }


async def _telegram_answer_refused(tmp_path: Path, fake: FakeTelegramAPI, base: str) -> str:
    await seed_member(tmp_path / "shop.db", Channel.TELEGRAM, str(TG_USER), points=120)
    serve = await start_serve(
        tmp_path, "serve-old", **_telegram(tmp_path, base, OLD_TELEGRAM_TOKEN)
    )
    try:
        update = text_update(1001, TG_USER, "/points")
        assert await post_telegram(serve.port, update, TG_SECRET) == 200
        await until(lambda: " failed: " in serve.text(), "Telegram refused the answer")
    finally:
        await stop_serve(serve)
    return serve.text()


async def test_a_revoked_telegram_token_is_named_in_serves_log(tmp_path: Path) -> None:
    async with serving(FakeTelegramAPI()) as (fake, base):
        log = await _telegram_answer_refused(tmp_path, fake, base)
    assert "TELEGRAM_BOT_TOKEN" in log, log[-3000:]


async def test_an_answer_refused_for_a_revoked_telegram_token_arrives_after_the_restart(
    tmp_path: Path,
) -> None:
    async with serving(FakeTelegramAPI()) as (fake, base):
        await _telegram_answer_refused(tmp_path, fake, base)
        await _not_failed_for_good(tmp_path, "telegram")
        serve = await start_serve(tmp_path, "serve-new", **_telegram(tmp_path, base, TOKEN))
        try:
            await until(lambda: fake.sent(TG_USER), "the answer sent with the new token")
        finally:
            await stop_serve(serve)


#: a new bot from @BotFather: another id, so the chats of the old bot are not its chats
NEW_BOT_TOKEN = "987654321:AAE-a-new-bot-token_abcdefghijklmno"


async def test_telegram_setup_again_moves_the_webhook_to_the_new_bot_and_address(
    tmp_path: Path,
) -> None:
    await seed_member(tmp_path / "shop.db", Channel.TELEGRAM, str(TG_USER), points=120)
    async with serving(FakeTelegramAPI(token=NEW_BOT_TOKEN)) as (fake, base):
        code, _, err = await run_cli(
            tmp_path,
            "telegram",
            "setup",
            **_telegram(tmp_path, base, NEW_BOT_TOKEN),
            CHATCRM_PUBLIC_URL="https://moved.example.com/shop",
        )
    assert code == 0, err[-2000:]
    assert fake.webhook["url"] == "https://moved.example.com/shop/webhook/telegram"
    assert fake.webhook["secret_token"] == TG_SECRET


async def test_serve_with_a_new_bot_whose_webhook_is_not_set_says_to_run_setup(
    tmp_path: Path,
) -> None:
    async with serving(FakeTelegramAPI(token=NEW_BOT_TOKEN)) as (fake, base):
        assert fake.webhook == {}  # the new bot: Telegram sends its updates nowhere
        serve = await start_serve(tmp_path, **_telegram(tmp_path, base, NEW_BOT_TOKEN))
        await stop_serve(serve)
    assert "telegram setup" in serve.text(), serve.text()[-3000:]


async def test_telegram_setup_on_a_new_database_registers_the_webhook(tmp_path: Path) -> None:
    async with serving(FakeTelegramAPI(token=NEW_BOT_TOKEN)) as (fake, base):
        code, _, err = await run_cli(
            tmp_path,
            "telegram",
            "setup",
            **_telegram(tmp_path, base, NEW_BOT_TOKEN),
            CHATCRM_PUBLIC_URL="https://shop.example.com",
        )
    assert code == 0, err[-2000:]
    assert fake.webhook["url"] == "https://shop.example.com/webhook/telegram"


NEW_LINE_SECRET = "line-channel-secret-after-the-reissue"


async def test_a_webhook_signed_with_the_old_line_secret_is_refused_and_its_redelivery_counts(
    tmp_path: Path,
) -> None:
    """The channel secret reissued and ``serve`` restarted with it: a delivery LINE signed with
    the old one is refused (nothing stored, not answered); LINE's redelivery of that same event,
    signed with the new secret, is answered once."""
    await seed_member(tmp_path / "shop.db", Channel.LINE, LINE_USER, points=120)
    api = FakeLineApi()
    async with api.running():
        variables = _line(tmp_path, api, api.access_token)
        serve = await start_serve(tmp_path, **{**variables, "LINE_CHANNEL_SECRET": NEW_LINE_SECRET})
        try:
            event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
            assert await post_line(serve.port, [event], CHANNEL_SECRET) == 401
            assert await post_line(serve.port, [event], CHANNEL_SECRET) == 401
            again = {**event, "deliveryContext": {"isRedelivery": True}}
            assert await post_line(serve.port, [again], NEW_LINE_SECRET) == 200
            assert await post_line(serve.port, [again], NEW_LINE_SECRET) == 200
            await until(lambda: api.messages_to(LINE_USER), "the answer")
        finally:
            await stop_serve(serve)
    assert len(api.messages_to(LINE_USER)) == 1
