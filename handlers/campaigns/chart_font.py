"""The fonts charts are drawn in: Sarabun (SIL Open Font License), installed with the project
from PyPI (``fontpkg-sarabun``), so Thai labels and campaign names render on any server, with
Noto Emoji (same licence, from ``manimgx-fonts``) behind it for the emoji a shop puts in a
campaign's name ("🧋 1 แถม 1").

Matplotlib's own DejaVu Sans has no Thai glyphs: Thai text would come out as empty boxes, with
a "Glyph … missing" warning per character. Matplotlib takes a glyph Sarabun lacks from the next
family of ``font.family`` (a list: the families inside the ``sans-serif`` alias are not tried
in turn), so the list is Sarabun, then DejaVu Sans for the few symbols Sarabun lacks, then Noto
Emoji. Noto Emoji is monochrome, the kind matplotlib can draw (it cannot draw colour bitmap
emoji fonts such as Noto Color Emoji); it comes last so that nothing Sarabun or DejaVu Sans drew
before changes. The files are registered with matplotlib's font manager once, on the first chart
(importing matplotlib is slow and most processes draw none).
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final

FAMILY: Final = "Sarabun"
#: the weights charts use (titles are drawn bold by some matplotlib styles)
WEIGHTS: Final = (400, 700)
EMOJI_FAMILY: Final = "Noto Emoji"
#: a variable font: matplotlib draws its default instance
EMOJI_FILE: Final = "NotoEmoji[wght].ttf"
#: the order matplotlib looks for each glyph in
FALLBACKS: Final = (FAMILY, "DejaVu Sans", EMOJI_FAMILY)
#: variation selectors: they choose a glyph's style and show nothing themselves
_SELECTORS: Final = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))

_lock = threading.Lock()
_ready = False


def font_files() -> list[Path]:
    """The Sarabun files the charts register (regular and bold)."""
    import fontpkg

    return [fontpkg.path(FAMILY, weight) for weight in WEIGHTS]


def emoji_font_file() -> Path:
    """Noto Emoji, as the ``manimgx-fonts`` package installs it."""
    return Path(str(files("manimgx_fonts").joinpath(EMOJI_FILE)))


def use_chart_font() -> None:
    """Register Sarabun and Noto Emoji with matplotlib and make them the charts' fonts
    (idempotent, thread-safe: charts are drawn in worker threads)."""
    global _ready
    with _lock:
        if _ready:
            return
        from matplotlib import font_manager, rcParams

        for path in [*font_files(), emoji_font_file()]:
            font_manager.fontManager.addfont(str(path))
        rcParams["font.family"] = list(FALLBACKS)
        _ready = True


@cache
def _codepoints() -> frozenset[int]:
    """Every character one of the charts' fonts has a glyph for."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    known: set[int] = set()
    for path in (font_files()[0], dejavu, emoji_font_file()):
        known.update(FT2Font(str(path)).get_charmap())
    return frozenset(known)


def drawable(text: str) -> tuple[str, bool]:
    """``text`` without the characters none of the charts' fonts has (matplotlib would draw
    each as an empty box: Chinese, say, in a campaign's name), and whether a visible one was
    left out, so that the chart can say so. Invisible ones (a zero-width space between Thai
    words, a variation selector) go without a word."""
    known = _codepoints()
    kept: list[str] = []
    lost = False
    for char in text:
        code = ord(char)
        if char == "\n" or code in known:
            kept.append(char)
        elif unicodedata.category(char) != "Cf" and not any(code in r for r in _SELECTORS):
            lost = True
    return "".join(kept), lost
