"""User-perceived characters (graphemes): where a text may be cut without breaking what a
person reads, and the cut that says the text goes on.

A plain slice cuts on a code point: inside an emoji family (at a zero-width joiner), between an
emoji and its skin tone or variation selector, between a Thai consonant and its vowel or tone
mark (shown on a dotted circle), between the two halves of a flag. :func:`fit` cuts between
graphemes only, and ends a cut text with "…" so a reader knows there is more.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ELLIPSIS: Final = "…"


def utf16_units(text: str) -> int:
    """How many UTF-16 code units ``text`` takes (a code point above U+FFFF takes two)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _extends(previous: str, char: str) -> bool:
    """Whether ``char`` belongs to the grapheme that ``previous`` ends (a close reading of
    Unicode's extended grapheme clusters, enough for Thai marks and emoji sequences)."""
    if previous in "\r\n" or char in "\r\n":  # a line break stands alone, CR LF together
        return previous == "\r" and char == "\n"
    code = ord(char)
    if unicodedata.category(char) in ("Mn", "Me", "Mc") or char == "\u0e33":  # marks, SARA AM
        return True
    if char == "\u200d" or previous == "\u200d":  # zero-width joiner glues both sides
        return True
    # variation selectors, skin tones, tag sequences (subdivision flags)
    return 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F


def graphemes(text: str) -> list[str]:
    """``text`` split into user-perceived characters (regional-indicator flags in pairs)."""
    clusters: list[str] = []
    for char in text:
        if clusters and (_extends(clusters[-1][-1], char) or _pairs_flag(clusters[-1], char)):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _pairs_flag(cluster: str, char: str) -> bool:
    def regional(c: str) -> bool:
        return 0x1F1E6 <= ord(c) <= 0x1F1FF

    return regional(char) and len(cluster) == 1 and regional(cluster)


def fit(text: str, limit: int) -> str:
    """``text`` if it is at most ``limit`` in code points and in UTF-16 units; else its longest
    run of whole graphemes that fits with "…" after it (just "…" when not even one does)."""
    if len(text) <= limit and utf16_units(text) <= limit:
        return text
    kept, size, units = "", 1, 1  # the ellipsis is one code point and one unit
    for cluster in graphemes(text):
        size, units = size + len(cluster), units + utf16_units(cluster)
        if size > limit or units > limit:
            break
        kept += cluster
    return kept + ELLIPSIS
