"""Small SVG charts drawn on the server for the console's pages (no script, no library).

Each builder returns markup to put in a page as it is: every text in it is escaped here, the
shapes carry classes (colours live in the stylesheet, text takes the page's font) and
presentation attributes only, never a ``style`` attribute (the console's CSP allows none).
The drawings scale to the width of the page (a ``viewBox``), a 390-px phone included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

WIDTH: Final = 360
_ROW: Final = 22
_LABEL: Final = 110


def _svg(height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )
    # every text above went through escape(); numbers are formatted by this module
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def bars(items: Sequence[tuple[str, float, str]], title: str) -> Markup:
    """Horizontal bars: (label, value, the value as the page writes it), one row each."""
    top = max((value for _, value, _ in items), default=0) or 1
    room = WIDTH - _LABEL - 70
    body: list[str] = []
    for row, (label, value, shown) in enumerate(items):
        y = row * _ROW
        length = max(room * value / top, 1 if value else 0)
        body.append(
            f'<text x="0" y="{y + 15}">{escape(label)}</text>'
            f'<rect class="bar" x="{_LABEL}" y="{y + 4}" width="{length:.1f}" height="14"/>'
            f'<text x="{_LABEL + length + 4:.1f}" y="{y + 15}">{escape(shown)}</text>'
        )
    return _svg(max(len(items), 1) * _ROW, title, body)


def columns(items: Sequence[tuple[str, float]], title: str, every: int = 1) -> Markup:
    """Vertical columns over time: (label, value), oldest first; every ``every``-th label."""
    height, base = 140, 120
    top = max((value for _, value in items), default=0) or 1
    step = WIDTH / max(len(items), 1)
    body = [f'<line class="axis" x1="0" y1="{base}" x2="{WIDTH}" y2="{base}"/>']
    for index, (label, value) in enumerate(items):
        x = index * step
        tall = (base - 10) * value / top
        body.append(
            f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{base - tall:.1f}" '
            f'width="{step * 0.7:.1f}" height="{tall:.1f}"><title>{escape(label)}: '
            f"{value:,.0f}</title></rect>"
        )
        if index % every == 0:
            body.append(f'<text x="{x:.1f}" y="{base + 14}">{escape(label)}</text>')
    return _svg(height, title, body)


def heat(grid: Sequence[Sequence[int]], days: Sequence[str], title: str) -> Markup:
    """A week by hour: ``grid[day][hour]`` as cells, darker for more (Monday first)."""
    left, cell_w, cell_h = 40, (WIDTH - 40) / 24, 18
    top = max((max(row) for row in grid), default=0) or 1
    body: list[str] = []
    for hour in range(0, 24, 3):
        body.append(f'<text x="{left + hour * cell_w:.1f}" y="11">{hour:02d}</text>')
    for d, row in enumerate(grid):
        y = 16 + d * cell_h
        body.append(f'<text x="0" y="{y + 13}">{escape(days[d])}</text>')
        for hour, value in enumerate(row):
            shade = 0.06 + 0.94 * value / top if value else 0.03
            body.append(
                f'<rect class="bar" x="{left + hour * cell_w:.1f}" y="{y}" '
                f'width="{cell_w - 1:.1f}" height="{cell_h - 2}" fill-opacity="{shade:.2f}">'
                f"<title>{escape(days[d])} {hour:02d}:00 · {value:,}</title></rect>"
            )
    return _svg(16 + 7 * cell_h, title, body)
