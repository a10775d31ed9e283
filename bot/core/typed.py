"""What a number or code typed on any keyboard means, for every layer that reads one.

Thai keyboards type Thai digits (``๒``) and phone keyboards full-width forms (``１２３``); a
person means the same number either way. The shop's parsers and the segment rules in storage
both read typed numbers, so the folding lives here, below both.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Final

#: the largest amount of baht anyone may type (a segment rule's, a campaign's target uplift):
#: well within what the money columns hold (whole satang in a 64-bit integer) and within the
#: 28 digits ``Decimal`` rounds exactly, so quantizing and formatting an amount always answer
MAX_MONEY: Final = Decimal(10**12)

# Explicit table: int("๐๘") would silently drop the leading zero a phone number needs.
_THAI_DIGITS: Final = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits_to_ascii(text: str) -> str:
    """Replace Thai digits ``๐``-``๙`` with ``0``-``9``; every other character is kept."""
    return text.translate(_THAI_DIGITS)


def as_typed_ascii(text: str) -> str:
    """``text`` with a phone's full-width forms (``１２３``, ``ＡＢＣ``, ``－``) folded into ASCII
    by NFKC and Thai digits replaced: what a code or number typed on any keyboard means."""
    return thai_digits_to_ascii(unicodedata.normalize("NFKC", text))
