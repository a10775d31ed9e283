"""Charts sent as PNG images in the chat (matplotlib, Agg, no pyplot global state).

Labels are in the viewer's language (``chart.*`` in the catalogs), drawn in Sarabun, a Thai
font installed with the project (:mod:`handlers.campaigns.chart_font`), so Thai labels and a
Thai campaign name render instead of empty boxes. Each function builds its own ``Figure``
(thread-safe), so handlers may render in a worker thread (``asyncio.to_thread``) and keep the
event loop free.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from bot.core.graphemes import fit
from bot.i18n import t
from handlers.campaigns.chart_font import drawable, use_chart_font
from shop.campaigns.stats import CampaignStats, GroupStats
from shop.campaigns.uplift import t_quantile_975

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RECIPIENT_COLOUR: Final = "#2a9d8f"
HOLDOUT_COLOUR: Final = "#b0b0b0"
#: the groups' names in the chart catalogue (``chart.recipients``) and their colours
RECIPIENTS: Final = "recipients"
HOLDOUT: Final = "holdout"
COLOURS: Final = {RECIPIENTS: RECIPIENT_COLOUR, HOLDOUT: HOLDOUT_COLOUR}
DPI: Final = 100


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _mean_error(group: GroupStats) -> float:
    """Half-width of the 95% interval of one group's revenue per member (0 when unknown)."""
    sample = group.revenue_sample()
    if sample.n < 2:
        return 0.0
    half = t_quantile_975(sample.n - 1) * math.sqrt(sample.variance / sample.n)
    return half if math.isfinite(half) else 0.0


def _money_bars(stats: CampaignStats) -> list[tuple[str, GroupStats, float]]:
    """(name, group, revenue per member) for each group that has a mean to draw: a notice
    sent to everyone (0% hold-out) has no hold-out bar, and neither has a hold-out that
    rounded to nobody: a bar at 0 would be a mean nobody had."""
    groups = [(RECIPIENTS, stats.recipients)]
    if not stats.no_holdout:
        groups.append((HOLDOUT, stats.holdout))
    return [
        (name, group, float(group.revenue_per_member))
        for name, group in groups
        if group.revenue_per_member is not None
    ]


def campaign_chart(stats: CampaignStats, locale: str = "th") -> bytes:
    """Left: revenue per member, recipients vs hold-out, with 95% error bars (recipients only
    when no hold-out was kept or it has nobody measured: no mean to draw). Right: the
    recipients' funnel sent → clicked → claimed → redeemed. Labels in ``locale``; the
    campaign's name is the title."""
    from matplotlib.figure import Figure  # on first use: slow to import, seldom needed

    use_chart_font()
    figure = Figure(figsize=(8, 3.8), layout="constrained")
    money, funnel = figure.subplots(1, 2)
    bars = _money_bars(stats)
    values = [value for _, _, value in bars]
    money.bar(
        [t(locale, "chart." + name) for name, _, _ in bars],
        values,
        yerr=[_mean_error(group) for _, group, _ in bars],
        capsize=6,
        color=[COLOURS[name] for name, _, _ in bars],
    )
    title = t(locale, "chart.revenue_per_member")
    if all(name != HOLDOUT for name, _, _ in bars):
        title += "\n" + t(locale, "chart.no_holdout")
    money.set_title(title)
    for index, value in enumerate(values):
        money.annotate(f"{value:,.0f}", (index, value), ha="center", va="bottom")

    r = stats.recipients
    steps = [t(locale, f"chart.{step}") for step in ("sent", "clicked", "claimed", "redeemed")]
    counts = [r.sent, r.clicked, r.claimed, r.redeemed]
    funnel.barh(steps[::-1], counts[::-1], color=RECIPIENT_COLOUR)
    funnel.set_title(t(locale, "chart.funnel"))
    for index, count in enumerate(counts[::-1]):
        funnel.annotate(f" {count:,}", (count, index), va="center")
    name, left_out = drawable(fit(stats.name, 60))
    figure.suptitle(name)
    if left_out:  # never an empty box: the name without them, and a word why
        figure.supxlabel(t(locale, "chart.left_out"), fontsize="small", color="#666666")
    return _png(figure)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal | int],
    *,
    horizontal: bool = False,
    left_out: str = "",
    fallbacks: Sequence[str] = (),
) -> bytes:
    """One labelled bar chart (the report's members per group, sales per branch, hour...);
    the caller words the title and labels in the viewer's language. A label's characters no
    chart font has are left out (never an empty box), ``left_out`` saying so under the chart;
    a label left with nothing to read is its ``fallbacks`` entry (a branch's code)."""
    from matplotlib.figure import Figure

    use_chart_font()
    figure = Figure(figsize=(7, 3.4), layout="constrained")
    axes = figure.subplots()
    numbers = [float(value) for value in values]
    shown, lost = _drawable_labels(labels, fallbacks)
    # by position, not by label: two labels drawn alike stay two bars
    places = list(range(len(shown)))
    if horizontal:
        axes.barh(places, numbers[::-1], color=RECIPIENT_COLOUR)
        axes.set_yticks(places, shown[::-1])
    else:
        axes.bar(places, numbers, color=RECIPIENT_COLOUR)
        axes.set_xticks(places, shown)
        if len(labels) > 12:
            axes.tick_params(axis="x", labelsize=7)
    if lost and left_out:
        figure.supxlabel(left_out, fontsize="small", color="#666666")
    axes.set_title(title)
    return _png(figure)


def _drawable_labels(labels: Sequence[str], fallbacks: Sequence[str]) -> tuple[list[str], bool]:
    """The labels as the chart fonts draw them, and whether a visible character was left out."""
    shown: list[str] = []
    lost = False
    for index, label in enumerate(labels):
        drawn, dropped = drawable(label)
        lost = lost or dropped
        if not drawn.strip():
            drawn = drawable(fallbacks[index])[0] if index < len(fallbacks) else "?"
        shown.append(drawn)
    return shown, lost
