"""Text direction in chat messages that mix what people wrote with the shop's own figures.

A member's name is free text: a bidi control in it (U+202E, the right-to-left override, and its
kin) left open reorders everything after it on the line, so a staff message's ``฿5,000`` reads
``000,5฿``. The controls are removed where text comes in (:data:`CONTROLS`). A name written in a
right-to-left script needs no control to move the digits next to it, so such a value is set in
an isolate (:func:`isolated`) when it is put into a message.
"""

from __future__ import annotations

import re
from typing import Final

#: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069), the marks (U+200E,
#: U+200F) and the Arabic letter mark (U+061C)
CONTROLS: Final = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FIRST_STRONG_ISOLATE: Final = "\u2068"
POP_DIRECTIONAL_ISOLATE: Final = "\u2069"
#: the blocks of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko ... and their
#: presentation forms): a value holding one of their letters can pull the digits around it
_RIGHT_TO_LEFT: Final = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def isolated(value: str) -> str:
    """``value`` as it is, or set in a first-strong isolate when it holds right-to-left letters
    (Thai, Latin and emoji are left alone: they cannot reorder the text around them)."""
    if value.isascii() or _RIGHT_TO_LEFT.search(value) is None:
        return value
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"
