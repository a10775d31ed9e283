"""Action codes written in one place and read in another: each format reads back what it wrote,
and refuses what is not its own."""

from __future__ import annotations

import pytest

from bot.core.ids import MAX_ROW_ID, row_id
from bot.core.keys import CommandAction, FeedbackRating
from handlers.staff.settings.actions import SettingsAction, settings_code


def test_a_command_action_reads_back_its_name_and_arguments() -> None:
    assert CommandAction("card").format() == "cmd:card"
    assert CommandAction("redeem", "AB12-CD").format() == "cmd:redeem:AB12-CD"
    assert CommandAction.parse("cmd:redeem:AB12-CD") == CommandAction("redeem", "AB12-CD")
    assert CommandAction.parse("cmd:campaign:preview 7") == CommandAction("campaign", "preview 7")
    assert CommandAction.parse("cmd:x:a:b") == CommandAction("x", "a:b")  # colons stay in args
    assert CommandAction.parse("cmp:7") is None


@pytest.mark.parametrize("stars", [1, 5])
def test_a_star_button_reads_back_its_feedback_and_stars(stars: int) -> None:
    code = FeedbackRating(42, stars).format()
    assert code == f"fb:42:{stars}"
    assert FeedbackRating.parse(code) == FeedbackRating(42, stars)


@pytest.mark.parametrize(
    "code",
    [
        *("fb:42:0", "fb:42:6", "fb:x:3", "fb:42", "fbc:42:3", "fb::3"),
        *("fb:42:\u00b2", "fb:\u00b2:3", f"fb:{'9' * 20}:3", "fb:42:05"),
    ],
)
def test_a_star_button_code_that_names_no_rating_is_refused(code: str) -> None:
    assert FeedbackRating.parse(code) is None


def test_a_settings_code_reads_back_its_verb_and_arguments() -> None:
    assert settings_code("rwe", 12, "cost") == "set:rwe:12:cost"
    assert SettingsAction.parse("set:rwe:12:cost") == SettingsAction("rwe", ("12", "cost"))
    assert SettingsAction.parse(settings_code("home")) == SettingsAction("home")
    assert SettingsAction.parse("set") is None
    assert SettingsAction.parse("setv:cancel") is None


@pytest.mark.parametrize("text", ["0", "7", "0042", str(MAX_ROW_ID)])
def test_an_id_of_ascii_digits_within_64_bits_is_read(text: str) -> None:
    assert row_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-1",
        "+7",
        " 7",
        "7 ",
        "1.0",
        "\u00b2",
        "\u0e51\u0e52",
        "\uff17",
        str(MAX_ROW_ID + 1),
        "9" * 5000,
    ],
)
def test_text_no_row_id_can_be_is_no_id(text: str) -> None:
    """Superscripts, Thai and full-width digits pass ``str.isdigit``; ``int`` refuses the
    first and the database numbers past 64 bits."""
    assert row_id(text) is None
