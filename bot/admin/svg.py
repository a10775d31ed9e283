"""Small SVG charts drawn on the server (no script, no library): a campaign's groups side by
side, each bar with its value written beside it. Text is escaped; sizes are numbers."""

from __future__ import annotations

from html import escape


def bars(title: str, rows: list[tuple[str, float, str]], width: int = 360) -> str:
    """Horizontal bars: one (label, value, shown value) per row, scaled to the largest."""
    height = 34 + 36 * len(rows)
    top = max((value for _, value, _ in rows), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="8" y="20" font-weight="700">{escape(title)}</text>',
    ]
    span = width - 200
    for index, (label, value, shown) in enumerate(rows):
        y = 34 + 36 * index
        length = max(0.0, value) / top * span
        parts.append(f'<text x="8" y="{y + 16}">{escape(label)}</text>')
        parts.append(
            f'<rect x="110" y="{y + 4}" width="{length:.1f}" height="16" fill="#0b6e4f" rx="2"/>'
        )
        parts.append(f'<text x="{110 + length + 4:.1f}" y="{y + 17}">{escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)
