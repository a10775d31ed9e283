"""Long texts reach the fake platforms split within their limits, never inside a character a
reader sees as one (a Thai consonant with its vowel and tone marks, an emoji joined with ZWJ).

Thai is written without spaces between words, so a long Thai campaign text or a staff alert
quoting a customer has no space to cut at: the cut falls wherever the limit does. A part that
starts with a lone vowel or tone mark shows it on a dotted circle, and a family emoji cut at
its joiner arrives as separate people.
"""

from __future__ import annotations

import html
import unicodedata
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.channels.line import LineChannel
from bot.channels.telegram import make_bot
from bot.channels.telegram.outbound import send, utf16_len
from bot.core.messages import Reply
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving

CHAT = 5550077
USER = "U" + "a" * 32
#: "ที่" is one Thai syllable of three code points (consonant, vowel mark, tone mark)
SYLLABLE = "ที่"
FAMILY = "👨\u200d👩\u200d👧"  # one emoji of five code points, eight UTF-16 units


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegramAPI, str]]:
    async with serving() as running:
        yield running


@pytest.fixture
async def bot(served: tuple[FakeTelegramAPI, str]) -> AsyncIterator[Bot]:
    bot = make_bot(TOKEN, served[1])
    yield bot
    await bot.session.close()


def starts_inside_a_character(part: str) -> bool:
    first = part[0]
    return unicodedata.category(first) in ("Mn", "Mc", "Me") or first == "\u200d"


def ends_inside_a_character(part: str) -> bool:
    return part[-1] == "\u200d"


async def telegram_parts(bot: Bot, fake: FakeTelegramAPI, text: str) -> list[str]:
    await send(bot, CHAT, [Reply(text=text)])
    return [html.unescape(call.text) for call in fake.sent(CHAT)]


async def test_telegram_long_thai_text_is_not_cut_inside_a_syllable(
    bot: Bot, served: tuple[FakeTelegramAPI, str]
) -> None:
    text = SYLLABLE * 2000  # 6,000 units, no space or line break anywhere
    parts = await telegram_parts(bot, served[0], text)
    assert len(parts) == 2
    assert "".join(parts) == text
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert not any(starts_inside_a_character(p) for p in parts)


async def test_telegram_family_emoji_at_the_limit_stays_whole(
    bot: Bot, served: tuple[FakeTelegramAPI, str]
) -> None:
    text = "ก" * 4092 + FAMILY + "ข" * 10  # the emoji straddles unit 4096
    parts = await telegram_parts(bot, served[0], text)
    assert "".join(parts) == text
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert not any(starts_inside_a_character(p) or ends_inside_a_character(p) for p in parts)


async def test_telegram_emoji_straddling_the_limit_is_never_split_in_its_surrogate_pair(
    bot: Bot, served: tuple[FakeTelegramAPI, str]
) -> None:
    # 4095 units then a two-unit emoji: the emoji must move to the next message whole
    text = "ก" * 4095 + "😀" + "ข" * 5
    parts = await telegram_parts(bot, served[0], text)
    assert parts == ["ก" * 4095, "😀" + "ข" * 5]


async def line_texts(channel: LineChannel, fake: FakeLineApi, text: str) -> list[str]:
    await channel.push(USER, [Reply(text=text)], retry_key=str(uuid.uuid4()))
    return [m["text"] for m in fake.messages_to(USER) if m["type"] == "text"]


async def test_line_long_thai_text_is_not_cut_inside_a_syllable(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    text = SYLLABLE * 2000  # 6,000 characters, no space or line break
    parts = await line_texts(channel, fake, text)
    assert len(parts) == 2
    assert "".join(parts) == text
    assert all(len(p) <= 5000 for p in parts)
    assert not any(starts_inside_a_character(p) for p in parts)


async def test_line_family_emoji_at_the_limit_stays_whole(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    text = "ก" * 4998 + FAMILY + "ข" * 10
    parts = await line_texts(channel, fake, text)
    assert "".join(parts) == text
    assert not any(starts_inside_a_character(p) or ends_inside_a_character(p) for p in parts)


async def test_line_text_of_many_parts_keeps_every_character_in_order(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    # 7 parts: more than one push of five messages, each within 5,000 characters
    text = "ก" * 34_000
    parts = await line_texts(channel, fake, text)
    assert [len(p) for p in parts] == [5000] * 6 + [4000]
    assert len(fake.calls_to("push")) == 2


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_line_long_text_with_emoji_fits_5000_utf16_units_per_message(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    # LINE's "Character counting in a text": UTF-16 code units, so 😀 is two characters
    text = "ขอบคุณค่ะ😀 " * 700  # 7,700 code points, 8,400 UTF-16 units
    parts = await line_texts(channel, fake, text)
    assert parts
    assert all(utf16_units(p) <= 5000 for p in parts)
