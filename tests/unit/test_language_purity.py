"""Nothing of the other language in what the bot says: every reply and button of the journeys
in :mod:`tests.unit.language_journeys`, and every message they queue, read in English holds no
Thai script and read in Thai no English word (beyond brands, formats and what people typed)."""

from __future__ import annotations

import re

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import LOCALES, catalog, placeholders, render, t
from tests.unit.language_journeys import ENGLISH, THAI, whole_shop
from tests.unit.language_support import Transcript, foreign_words, offences

PEOPLE = {"en": ENGLISH, "th": THAI}
#: "1 members", "1 points", "day(s)": an English count that did not go through the plural forms
WRONG_PLURAL = re.compile(
    r"(?<![\d,.#])1 (?:(?:welcome|bonus|LINE|waiting) )?(?:members|recipients|sales|answers"
    r"|conversations|days|messages|points|minutes|months|offers|tries|friends|branches|stamps"
    r"|visits|coupons)\b|\((?:e)?s\)"
)


@pytest.mark.parametrize("locale", ["en", "th"])
async def test_no_reply_holds_words_of_the_other_language(
    app: App, clock: FrozenClock, locale: str
) -> None:
    transcript = Transcript()
    transcript.attach(app)
    people = PEOPLE[locale]
    await whole_shop(app, clock, people)
    await transcript.add_outbox(app)
    apologies = {t(code, "error.internal") for code in LOCALES}
    assert [s for s in transcript.said if s.text in apologies] == []  # no journey broke off
    assert len(transcript.said) > 300
    found = offences(locale, transcript, people.typed)
    assert found == [], "\n".join(found)
    if locale == "en":  # one member, two members: counts take the plural form they need
        wrong = [s.text for s in transcript.said if WRONG_PLURAL.search(s.text)]
        assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_no_catalog_text_holds_words_of_the_other_language(locale: str) -> None:
    """Also the texts no journey above reaches."""
    found = {key: foreign_words(locale, text) for key, text in catalog(locale).items()}
    assert {key: words for key, words in found.items() if words} == {}


def test_no_english_text_reads_one_with_a_plural_noun() -> None:
    """Every English text with 1 for each of its placeholders: a count is written with its unit
    (``{points:points}``) or chosen from a plural table, so none says "1 points". The ``other``
    forms of the tables are for counts other than one."""
    found = {}
    for key, text in catalog("en").items():
        if key.endswith(".other"):
            continue
        shown = render("en", text, **dict.fromkeys(placeholders(text), 1))
        if WRONG_PLURAL.search(shown):
            found[key] = shown
    assert found == {}
