"""Text at the channel seam: what comes in is made storable, what goes out is made to fit.

Inbound: a JSON body may carry ``\\u0000`` or a lone surrogate escape (``\\ud800``); Python
reads both into a ``str``, but PostgreSQL refuses NUL in text and JSON columns, and a lone
surrogate cannot be encoded as UTF-8 at all, so the whole event would fail and the person's
message be lost; a bidi control (U+202E and kin) in a name would reorder the figures a staff
message shows after it. :func:`clean` runs on every inbound text field (text, names, postback and
callback data) before anything else sees it.

Outbound: LINE limits labels in characters, and counts them in UTF-16 units in places (an
emoji outside the BMP is one code point but two units); :func:`fit` cuts a label so it fits
both measures, and never inside a grapheme (a Thai vowel or tone mark stays on its consonant,
an emoji sequence stays whole). Telegram (4096) and LINE (5000) both count a message's text
in UTF-16 units; :func:`split` cuts a long text into messages for either. Thai is written
without spaces between words, so a long Thai text often has nowhere to cut but between
graphemes, and a part that began with a bare vowel or tone mark would show it on a dotted
circle.
"""

from __future__ import annotations

import bisect
import re
from typing import Final

from bot.core import bidi
from bot.core.graphemes import ELLIPSIS, fit, graphemes, utf16_units

__all__ = ["ELLIPSIS", "clean", "clean_optional", "fit", "graphemes", "split", "utf16_units"]

_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: one left open in a name reorders whatever a message puts after it (:mod:`bot.core.bidi`)
_BIDI: Final = re.compile(f"[{bidi.CONTROLS}]")


def clean(text: str) -> str:
    """``text`` without NUL characters and bidi controls, and with every lone surrogate
    replaced by U+FFFD.

    A surrogate pair left as two code points is joined into its character; everything else
    (zero-width spaces and joiners included, which Thai text and emoji need) is kept.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _BIDI.search(text) is not None:
        text = _BIDI.sub("", text)
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_optional(text: str | None) -> str | None:
    """:func:`clean` for a field that may be absent."""
    return None if text is None else clean(text)


def split(text: str, limit: int) -> list[str]:
    """``text`` as messages of at most ``limit`` UTF-16 units (so at most ``limit`` code points
    too), never cut inside a grapheme.

    Each cut falls at the last line break of the window when that keeps at least half of it,
    else after its last such space, else at its last grapheme boundary. Line breaks at the
    ends of a part are dropped (a message boundary already breaks the line), and so are parts
    with nothing to read; spaces are kept, so a text cut only between graphemes or after
    spaces joins back exactly.
    """
    if len(text) * 2 <= limit or utf16_units(text) <= limit:
        # one message (nearly every reply): no grapheme walk on the way out
        return [text.strip("\r\n")] if text.strip() else []
    ends = list(_boundaries(text))  # code-point offsets where a grapheme ends, ascending
    units = [0] * (len(text) + 1)  # units[i]: UTF-16 units of text[:i]
    for i, char in enumerate(text):
        units[i + 1] = units[i] + (2 if ord(char) > 0xFFFF else 1)
    parts: list[str] = []
    start = 0
    while units[-1] - units[start] > limit:
        cut = _cut(text, start, _window_end(ends, units, start, limit), ends)
        parts.append(text[start:cut])
        start = cut
    parts.append(text[start:])
    return [part.strip("\r\n") for part in parts if part.strip()]


def _boundaries(text: str) -> list[int]:
    offsets, at = [], 0
    for cluster in graphemes(text):
        at += len(cluster)
        offsets.append(at)
    return offsets


def _window_end(ends: list[int], units: list[int], start: int, limit: int) -> int:
    """The furthest grapheme end after ``start`` within ``limit`` units; the furthest code
    point when a single grapheme is longer than the limit (so the loop always moves on)."""
    reach = bisect.bisect_right(units, units[start] + limit) - 1
    k = bisect.bisect_right(ends, reach) - 1
    if k >= 0 and ends[k] > start:
        return ends[k]
    return max(reach, start + 1)


def _cut(text: str, start: int, end: int, ends: list[int]) -> int:
    half = start + (end - start) // 2
    for mark in ("\n", " "):
        at = text.rfind(mark, start, end) + 1
        if at > half and _is_boundary(ends, at):
            return at
    return end


def _is_boundary(ends: list[int], at: int) -> bool:
    k = bisect.bisect_left(ends, at)
    return k < len(ends) and ends[k] == at
