"""Each adapter declares its platform's documented facts (Telegram Bot API, LINE Messaging
API; see ``PLATFORM_FACTS``), and the core lookup by channel answers the same."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.channels.console import ConsoleChannel
from bot.channels.line import REPLY_TOKEN_FRESHNESS, LineChannel
from bot.channels.line.render import MAX_MESSAGES_PER_REQUEST, MAX_TEXT
from bot.channels.line.send import MAX_MULTICAST_RECIPIENTS
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.outbound import TEXT_LIMIT
from bot.config import Settings
from bot.core.capabilities import ChannelCapabilities, RateBudget, capabilities_of
from bot.core.messages import Channel
from jobs.ratelimit import operator_budgets

#: what each adapter class declares, by the channel it serves
DECLARED: dict[Channel, ChannelCapabilities] = {
    Channel.TELEGRAM: TelegramChannel.capabilities,
    Channel.LINE: LineChannel.capabilities,
    Channel.CONSOLE: ConsoleChannel.capabilities,
}


def test_telegram_declares_the_bot_api_facts() -> None:
    caps = TelegramChannel.capabilities
    assert caps.channel is Channel.TELEGRAM
    # ~30 messages/s per bot, ~1/s per chat, and every message is its own call
    assert caps.rates == RateBudget(per_chat=1.0, per_sender=30.0, per_message=True)
    assert caps.multicast_max == 1
    assert not caps.multicast
    assert caps.reply_token_lifetime is None
    assert not caps.reply_tokens
    assert not caps.retry_keys
    assert not caps.metered
    assert not caps.media_by_url  # photos and documents are uploaded
    assert caps.shares_contact
    assert caps.text_max == TEXT_LIMIT == 4096
    assert not caps.on_demand


def test_line_declares_the_messaging_api_facts() -> None:
    caps = LineChannel.capabilities
    assert caps.channel is Channel.LINE
    # push 2,000 and multicast 200 requests/s, a token per request whatever its recipients
    assert caps.rates.per_endpoint == (("push", 2000.0), ("multicast", 200.0))
    assert (caps.rates.per_chat, caps.rates.per_sender, caps.rates.per_message) == (
        None,
        None,
        False,
    )
    assert caps.multicast_max == MAX_MULTICAST_RECIPIENTS == 500
    assert caps.messages_per_request == MAX_MESSAGES_PER_REQUEST == 5
    assert caps.reply_token_lifetime == timedelta(minutes=1)
    assert caps.reply_token_lifetime > REPLY_TOKEN_FRESHNESS  # never spend one about to expire
    assert caps.retry_keys  # X-Line-Retry-Key
    assert caps.metered  # push and multicast count against the monthly quota
    assert caps.media_by_url  # LINE fetches images from a public URL
    assert not caps.shares_contact
    assert caps.text_max == MAX_TEXT == 5000
    assert not caps.on_demand


def test_the_console_is_served_on_demand_and_has_no_platform_features() -> None:
    caps = ConsoleChannel.capabilities
    assert caps.on_demand
    assert not caps.multicast
    assert not caps.reply_tokens
    assert not caps.retry_keys


@pytest.mark.parametrize("channel", list(Channel))
def test_the_core_lookup_answers_what_the_adapter_declares(channel: Channel) -> None:
    declared = DECLARED[channel]
    assert capabilities_of(channel) is declared
    assert capabilities_of(channel.value) is declared


def test_the_default_operator_rates_stay_within_the_platform_budgets(settings: Settings) -> None:
    budgets = operator_budgets(settings)
    for channel, budget in budgets.items():
        platform = capabilities_of(channel).rates
        assert budget.per_message == platform.per_message
        for mine, theirs in (
            (budget.per_chat, platform.per_chat),
            (budget.per_sender, platform.per_sender),
        ):
            assert (mine is None) == (theirs is None)
            assert mine is None or theirs is None or mine <= theirs
        assert [kind for kind, _ in budget.per_endpoint] == [
            kind for kind, _ in platform.per_endpoint
        ]
        for kind, rate in budget.per_endpoint:
            assert rate <= (platform.endpoint(kind) or 0)
