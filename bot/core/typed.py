"""What a number or code typed on any keyboard means, for every layer that reads one.

Thai keyboards type Thai digits (``๒``) and phone keyboards full-width forms (``１２３``); a
person means the same number either way. The shop's parsers and the segment rules in storage
both read typed numbers, so the folding lives here, below both.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Final

#: the largest amount of baht anyone may type (a segment rule's, a campaign's target uplift):
#: well within what the money columns hold (whole satang in a 64-bit integer) and within the
#: 28 digits ``Decimal`` rounds exactly, so quantizing and formatting an amount always answer
MAX_MONEY: Final = Decimal(10**12)

#: a number as people write one: commas only between groups of three (``1,250``), decimals after
#: a point. A comma anywhere else (``1,5``, ``12,50``) is a decimal comma or a typo: dropping it
#: would read ten or a hundred times the number meant, so no reader takes it.
GROUPED_NUMBER: Final = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
#: the same, whole
GROUPED_WHOLE: Final = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
#: the minus signs a number may start with: ASCII, and U+2212 which some phone keyboards type
#: (an en dash is punctuation, not a minus)
MINUS_SIGNS: Final = "-\u2212"
_GROUPED: Final = re.compile(GROUPED_NUMBER)

#: characters that show nothing: a Thai word copied from a chat carries U+200B between words
ZERO_WIDTH: Final = "\u200b\u200c\u200d\u2060\ufeff"
_JOINER: Final = "\u200d"

# Explicit table: int("๐๘") would silently drop the leading zero a phone number needs.
_THAI_DIGITS: Final = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits_to_ascii(text: str) -> str:
    """Replace Thai digits ``๐``-``๙`` with ``0``-``9``; every other character is kept."""
    return text.translate(_THAI_DIGITS)


def as_typed_ascii(text: str) -> str:
    """``text`` with a phone's full-width forms (``１２３``, ``ＡＢＣ``, ``－``) folded into ASCII
    by NFKC and Thai digits replaced: what a code or number typed on any keyboard means."""
    return thai_digits_to_ascii(unicodedata.normalize("NFKC", text))


def ungrouped(text: str) -> str | None:
    """An unsigned number typed in ASCII digits (:data:`GROUPED_NUMBER`) without its thousands
    commas, ready for ``Decimal``; None when it is not written as one."""
    return text.replace(",", "") if _GROUPED.fullmatch(text) else None


def misplaced_comma(text: str) -> bool:
    """Whether ``text`` holds a comma that separates no thousands (``1,5``, ``12,50``): what a
    reader says so of, rather than "not a number", when the rest is digits."""
    if "," not in text:
        return False
    digits = text.replace(",", "").replace(".", "", 1)
    return digits.isascii() and digits.isdigit() and ungrouped(text) is None


def without_zero_width(text: str) -> str:
    """``text`` without the characters that show nothing (:data:`ZERO_WIDTH`), so that a word
    is what its reader sees: ``ลูกค้า\u200bประจำ`` is ``ลูกค้าประจำ``. A zero-width joiner
    between two emoji (the family, a flag) draws one picture and stays."""
    if not any(char in text for char in ZERO_WIDTH):
        return text
    return "".join(
        char
        for index, char in enumerate(text)
        if char not in ZERO_WIDTH or (char == _JOINER and _joins_emoji(text, index))
    )


def _joins_emoji(text: str, index: int) -> bool:
    before, after = text[index - 1 : index], text[index + 1 : index + 2]
    return bool(before and after) and _pictograph(before) and _pictograph(after)


def _pictograph(char: str) -> bool:
    """A symbol an emoji sequence joins (or the variation selector and skin tone after one)."""
    return unicodedata.category(char) in ("So", "Sk") or char == "\ufe0f"
