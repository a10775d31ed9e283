"""Bidi controls in what people type: dropped where text comes in (the channel seam and the
name cleaning), Thai, emoji joiners and zero-width spaces kept; a right-to-left name isolated
where a message puts it next to figures."""

from __future__ import annotations

import pytest

from bot.channels.text import clean
from bot.core.bidi import CONTROLS, isolated
from bot.core.errors import InvalidInput
from bot.i18n import t
from shop.inputs import clean_name, visible_text

FAMILY: str = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # emoji joined by ZWJ
THAI: str = "ส\u200bม\u0e34ชาย"  # a zero-width space between Thai words, a vowel mark


@pytest.mark.parametrize("control", list(CONTROLS))
def test_every_bidi_control_is_dropped_from_inbound_text_and_names(control: str) -> None:
    typed = f"{control}yolP {FAMILY} {THAI}{control}"
    assert clean(typed) == f"yolP {FAMILY} {THAI}"
    assert visible_text(typed) == f"yolP {FAMILY} {THAI}"
    assert clean_name(typed) == f"yolP {FAMILY} {THAI}"


def test_a_name_of_only_bidi_controls_is_refused_like_an_empty_one() -> None:
    with pytest.raises(InvalidInput):
        clean_name("\u202e\u2067\u200f")


def test_thai_english_and_emoji_values_are_put_in_messages_as_they_are() -> None:
    for value in ("Ploy", THAI, FAMILY, "พลอย 🌸"):
        assert isolated(value) == value
        assert t("en", "error.member_not_found", query=value).count(value) == 1


def test_a_right_to_left_name_is_isolated_so_the_figures_after_it_keep_their_place() -> None:
    assert isolated("שלום") == "\u2068שלום\u2069"
    assert isolated("محمد 5") == "\u2068محمد 5\u2069"
    assert "\u2068שלום\u2069" in t("en", "error.member_not_found", query="שלום")
