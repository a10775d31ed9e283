"""LINE multicasts sent without the SDK's model round trip: the same bytes and headers as
line-bot-sdk's ``AsyncMessagingApi.multicast``, and the same error mapping, against the fake."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from linebot.v3.messaging import MulticastRequest

from bot.channels.line import LineChannel
from bot.channels.line.send import REQUEST_TIMEOUT
from bot.core.errors import (
    CredentialsRejected,
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
    TransientChannelError,
)
from bot.core.messages import Button, ButtonKind, Reply
from simulator.fakes.line_api import FakeLineApi

USERS = [f"U{n:032x}" for n in range(500)]
REPLIES = [
    Reply(text='โปรวันธรรมดา: ชาไข่มุก 1 แถม 1 "14-16" \\ ✓'),
    Reply(
        text="Pick one",
        buttons=(
            Button("Menu", "menu"),
            Button("Site", kind=ButtonKind.URL, url="https://x.test/"),
        ),
    ),
]


def _sent(fake: FakeLineApi) -> list[tuple[bytes, dict[str, Any]]]:
    return [(call.body, call.headers) for call in fake.calls_to("multicast")]


async def test_the_body_and_headers_are_byte_for_byte_the_sdks(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    # two contents, each twice (the second of each from the sender's cache), ids varying
    for replies, users in [(REPLIES, USERS), (REPLIES[:1], USERS[:7])] * 2:
        fake.calls.clear()
        messages = await channel.render(users[0], replies, shared=True)
        sdk_key, our_key = str(uuid.uuid4()), str(uuid.uuid4())
        request = MulticastRequest.from_dict({"to": users, "messages": messages})
        await channel.api.multicast(
            request, x_line_retry_key=sdk_key, _request_timeout=REQUEST_TIMEOUT
        )
        await channel.sender.multicast(users, messages, our_key)
        [(sdk_body, sdk_headers), (our_body, our_headers)] = _sent(fake)
        assert our_body == sdk_body
        assert list(our_headers) == list(sdk_headers)  # the same headers in the same order
        assert our_headers == {**sdk_headers, "X-Line-Retry-Key": our_key}
        assert sdk_headers["X-Line-Retry-Key"] == sdk_key
        assert our_headers["Authorization"] == f"Bearer {fake.access_token}"
    assert fake.recipients == 2 * 2 * (len(USERS) + 7)


async def test_a_repeat_with_the_same_key_is_answered_409_and_counts_as_sent(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    key = str(uuid.uuid4())
    await channel.multicast(USERS[:3], REPLIES[:1], key)
    await channel.multicast(USERS[:3], REPLIES[:1], key)
    assert [call.status for call in fake.calls_to("multicast")] == [200, 409]
    assert fake.recipients == 3


async def test_a_server_error_is_retried_with_the_same_key(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail_server_error("multicast")
    await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))
    first, second = fake.calls_to("multicast")
    assert (first.status, second.status) == (500, 200)
    assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]
    assert first.body == second.body


async def test_server_errors_past_the_retries_are_transient(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail_server_error("multicast", times=3)
    with pytest.raises(TransientChannelError, match="LINE 500"):
        await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))
    assert len(fake.calls_to("multicast")) == 3


async def test_a_rate_limit_429_is_rate_limited_and_not_retried(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail_rate_limit("multicast")
    with pytest.raises(RateLimited) as raised:
        await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))
    assert raised.value.retry_after == 1.0
    assert len(fake.calls_to("multicast")) == 1


async def test_the_monthly_limit_is_quota_exhausted(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.quota_limit = 2
    with pytest.raises(QuotaExhausted, match="monthly limit"):
        await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))
    assert fake.recipients == 0


async def test_other_4xx_is_a_permanent_error_with_lines_message(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail("multicast", 400, "The request body has 1 error(s)")
    with pytest.raises(PermanentChannelError, match=r"LINE 400: The request body has 1 error"):
        await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))


async def test_a_rotated_token_is_refused_as_the_bots_credentials_not_the_message(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.access_token = "rotated"
    with pytest.raises(CredentialsRejected, match="LINE 401") as raised:
        await channel.multicast(USERS[:3], REPLIES[:1], str(uuid.uuid4()))
    assert raised.value.setting == "LINE_CHANNEL_ACCESS_TOKEN"
    assert len(fake.calls_to("multicast")) == 1  # not retried like a 5xx


async def test_more_than_500_recipients_are_refused_before_any_request(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    with pytest.raises(ValueError, match=r"1\.\.500"):
        await channel.sender.multicast([*USERS, "U1"], [{"type": "text", "text": "x"}], "k")
    assert fake.calls_to("multicast") == []
