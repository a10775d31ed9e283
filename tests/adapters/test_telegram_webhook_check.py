"""``serve``'s start asks Telegram where the bot's updates go and warns, once, when not here
(``bot.channels.telegram.webhook_check``); it never stops the start."""

from __future__ import annotations

import logging

import pytest

from bot.channels.telegram.session import make_bot, session_of
from bot.channels.telegram.webhook_check import check_webhook
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving

HERE = "https://shop.example.com/webhook/telegram"


async def warnings_for(
    caplog: pytest.LogCaptureFixture, fake: FakeTelegramAPI, token: str = TOKEN
) -> list[str]:
    async with serving(fake) as (_, base):
        bot = make_bot(token, base)
        try:
            with caplog.at_level(logging.INFO, logger="bot.channels.telegram.webhook_check"):
                await check_webhook(session_of(bot), bot.token, HERE)
        finally:
            await bot.session.close()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_bot_without_a_webhook_is_told_to_run_setup(
    caplog: pytest.LogCaptureFixture,
) -> None:
    (line,) = await warnings_for(caplog, FakeTelegramAPI())
    assert "chatcrm telegram setup" in line
    assert HERE in line


async def test_a_webhook_set_here_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTelegramAPI()
    fake.webhook = {"url": HERE}
    assert await warnings_for(caplog, fake) == []


async def test_a_webhook_set_elsewhere_names_both_addresses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTelegramAPI()
    fake.webhook = {"url": "https://old.example.com/webhook/telegram"}
    (line,) = await warnings_for(caplog, fake)
    assert "https://old.example.com/webhook/telegram" in line
    assert HERE in line
    assert "chatcrm telegram setup" in line


async def test_a_refused_token_is_named(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTelegramAPI(token="999:AAE-another-bots-token_abcdefghijklmnop")
    (line,) = await warnings_for(caplog, fake)
    assert "TELEGRAM_BOT_TOKEN" in line


async def test_telegram_out_of_reach_does_not_stop_the_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = make_bot(TOKEN, "http://127.0.0.1:9")  # the discard port: nothing listens
    try:
        with caplog.at_level(logging.INFO):
            await check_webhook(session_of(bot), bot.token, HERE)
    finally:
        await bot.session.close()
    assert any("could not ask Telegram" in r.getMessage() for r in caplog.records)
