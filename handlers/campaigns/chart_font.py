"""The font charts are drawn in: Sarabun (SIL Open Font License), installed with the project
from PyPI (``fontpkg-sarabun``), so Thai labels and campaign names render on any server.

Matplotlib's own DejaVu Sans has no Thai glyphs: Thai text would come out as empty boxes, with
a "Glyph … missing" warning per character. Sarabun covers Thai and Latin; DejaVu Sans stays
behind it for the few symbols Sarabun lacks. The files are registered with matplotlib's font
manager once, on the first chart (importing matplotlib is slow and most processes draw none).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

FAMILY: Final = "Sarabun"
#: the weights charts use (titles are drawn bold by some matplotlib styles)
WEIGHTS: Final = (400, 700)

_lock = threading.Lock()
_ready = False


def font_files() -> list[Path]:
    """The Sarabun files the charts register (regular and bold)."""
    import fontpkg

    return [fontpkg.path(FAMILY, weight) for weight in WEIGHTS]


def use_chart_font() -> None:
    """Register Sarabun with matplotlib and make it the charts' font (idempotent,
    thread-safe: charts are drawn in worker threads)."""
    global _ready
    with _lock:
        if _ready:
            return
        from matplotlib import font_manager, rcParams

        for path in font_files():
            font_manager.fontManager.addfont(str(path))
        rcParams["font.family"] = "sans-serif"
        rcParams["font.sans-serif"] = [FAMILY, "DejaVu Sans"]
        _ready = True
