"""The one splitter both channels use (:func:`bot.channels.text.split`), read from outside:
parts within the limit in UTF-16 units, nothing lost but line breaks at a cut, never a cut
inside a grapheme; and the fake LINE API refusing a text over 5000 UTF-16 units as LINE does.
"""

from __future__ import annotations

import uuid

import aiohttp
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.text import graphemes, split, utf16_units
from simulator.fakes.line_api import FakeLineApi

FLAG = "🇹🇭"  # two regional indicators, one flag
THUMB = "👍🏽"  # emoji and skin tone
HEART = "❤️"  # heart and VS16
FAMILY = "👨\u200d👩\u200d👧"


def test_each_kind_of_sequence_is_kept_whole_where_the_limit_falls_inside_it() -> None:
    for sequence in (FLAG, THUMB, HEART, FAMILY, "กั้", "e\u0301"):
        width = utf16_units(sequence)
        for before in range(1, width):
            text = "x" * (10 - before) + sequence + "y" * 5
            parts = split(text, 10)
            assert "".join(parts) == text
            assert any(sequence in part for part in parts), (sequence, parts)


def test_a_line_break_is_preferred_then_a_space_then_a_grapheme() -> None:
    assert split("aaaa bbbb\ncccc dddd", 12) == ["aaaa bbbb", "cccc dddd"]
    assert split("aaaa bbbb cccc dddd", 12) == ["aaaa bbbb ", "cccc dddd"]
    assert split("ที่" * 6, 10) == ["ที่" * 3, "ที่" * 3]


def test_a_break_early_in_the_window_does_not_leave_a_short_part() -> None:
    # a line break near the start of the window would waste most of a message
    assert split("ab\n" + "c" * 20, 10) == ["ab\nccccccc", "c" * 10, "ccc"]


def test_crlf_is_one_break_and_blank_parts_are_dropped() -> None:
    assert split("aaaa\r\nbbbb", 6) == ["aaaa", "bbbb"]
    assert split("a" * 5 + "\n" * 10 + "b", 5) == ["aaaaa", "b"]


def test_a_grapheme_longer_than_the_limit_is_still_cut_so_the_text_gets_through() -> None:
    text = "ก" + "\u0e48" * 30  # one base with thirty tone marks
    parts = split(text, 8)
    assert "".join(parts) == text
    assert all(utf16_units(p) <= 8 for p in parts)


def test_a_space_before_a_combining_mark_is_not_a_place_to_cut() -> None:
    # a mark after a space belongs to it: cutting after the space would orphan the mark
    text = "aaaaaa \u0e48bbbbbbbb"
    parts = split(text, 10)
    assert "".join(parts) == text
    assert not any(part[0] == "\u0e48" for part in parts)


PIECES = st.sampled_from(["ก", "ที่", "กั้", "a", " ", "\n", "😀", FLAG, THUMB, HEART, FAMILY])


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=60), st.integers(min_value=8, max_value=30))
def test_any_mix_fits_and_joins_back_between_whole_graphemes(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    parts = split(text, limit)
    assert all(0 < utf16_units(p) <= limit for p in parts)
    # only line breaks at a cut and parts of nothing but blanks are dropped
    assert "".join("".join(parts).split()) == "".join(text.split())
    whole = set(graphemes(text))
    assert all(set(graphemes(p)) <= whole for p in parts)


async def test_the_fake_line_api_refuses_a_text_over_5000_utf16_units() -> None:
    fake = FakeLineApi()
    text = "😀" * 2501  # 2,501 code points, 5,002 UTF-16 units
    body = {"to": "U" + "b" * 32, "messages": [{"type": "text", "text": text}]}
    headers = {
        "Authorization": f"Bearer {fake.access_token}",
        "X-Line-Retry-Key": str(uuid.uuid4()),
    }
    async with fake.running() as url, aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v2/bot/message/push", json=body, headers=headers) as r:
            refused = (r.status, await r.json())
        body["messages"][0]["text"] = "😀" * 2500
        async with session.post(f"{url}/v2/bot/message/push", json=body, headers=headers) as r:
            accepted = r.status
    assert refused[0] == 400
    assert refused[1]["details"] == [
        {"message": "Length must be between 1 and 5000", "property": "messages[0].text"}
    ]
    assert accepted == 200
