"""A row's id read from text a person or a button sent: one parser for every handler.

A button is a request, not a permission: Telegram lets a client send any 1–64 bytes as a
button's data, and a LINE postback can be forged the same way. ``str.isdigit`` is no test for
an id: it accepts other scripts' digits and superscripts (``²``, which ``int`` refuses) and
numbers of any length, which the database refuses (ids are 64-bit signed integers on
PostgreSQL and SQLite alike). Such text names no row, and reads here as no id at all, so the
handler answers as it does for any id that names nothing.
"""

from __future__ import annotations

from typing import Final

#: the largest id a row can have: a 64-bit signed integer (PostgreSQL's BIGINT, SQLite's rowid)
MAX_ROW_ID: Final = 2**63 - 1
_MAX_DIGITS: Final = len(str(MAX_ROW_ID))


def row_id(text: str) -> int | None:
    """The id ``text`` spells in ASCII digits (no sign, no spaces); None for anything else,
    and for a number past any row's id."""
    # the length first: int() of thousands of digits is slow, and refused past 4300
    if len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None
