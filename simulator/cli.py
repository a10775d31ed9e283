"""``chatcrm simulate``: a simulated shop on a scratch database, true vs reported.

The whole product runs — the web app, both chat channels against their local fakes, the
dispatcher, the win-back job — on a temporary SQLite file (or ``--database-url``), and the
table printed at the end puts what the simulator knows happened next to what ``/stats``
reports, with the uplift's 95% interval and whether it covered the true effect. The last
line says how large an uplift a campaign of this size can detect (80% power, 5% two-sided).
"""

from __future__ import annotations

import argparse
import math
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from shop.campaigns.stats import CampaignStats, compute_stats
from shop.campaigns.uplift import Moments, Verdict, minimum_detectable_effect, residual_variance
from simulator.inprocess import InProcessWorld
from simulator.population import Effect
from simulator.run import SimConfig, SimResult, setup_shop, simulate
from simulator.world import http_world
from storage.db import create_engine

#: a Tuesday, 10:00 in Bangkok: every run starts at the same moment
START: Final = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
#: share of generated members who agreed to marketing and can be reached (about)
REACHABLE_SHARE: Final = 0.72


def add_parser(commands: Any, command: Any) -> None:
    """Add ``simulate`` to the top-level subparsers (``command`` is cli's helper)."""
    sub = command("simulate", run_simulate, "run a simulated shop and compare /stats with truth")
    sub.add_argument("--members", type=int, default=300, help="shop size (default 300)")
    sub.add_argument(
        "--recipients", type=int, help="aim for about this many recipients (sets --members)"
    )
    sub.add_argument(
        "--effect",
        type=Decimal,
        default=Decimal(20),
        metavar="BAHT",
        help="extra spend per visit of a recipient in the window (default 20)",
    )
    sub.add_argument(
        "--visit-lift",
        type=float,
        default=0.0,
        metavar="P",
        help="chance of one extra visit for a recipient (negative: one fewer)",
    )
    sub.add_argument("--holdout", type=int, default=20, metavar="PCT")
    sub.add_argument("--seed", type=int, default=7)
    sub.add_argument("--days", type=int, default=8, help="simulated days (at least 7)")
    sub.add_argument("--database-url", help="default: a temporary SQLite file")
    sub.add_argument(
        "--http",
        action="store_true",
        help="send every event as a webhook through the web app and the platform fakes "
        "(slower; the default calls the bot in-process)",
    )


def config_from(args: argparse.Namespace) -> SimConfig:
    members = args.members
    if args.recipients:
        members = math.ceil(args.recipients / ((1 - args.holdout / 100) * REACHABLE_SHARE))
    return SimConfig(
        members=members,
        days=max(args.days, 7),
        holdout_pct=args.holdout,
        effect=Effect(visit_prob=args.visit_lift, extra_spend=args.effect),
        seed=args.seed,
    )


async def run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    config = config_from(args)
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'simulated.db'}"
        result, stats = await run_on(url, settings, config, http=args.http)
    Console().print(report_table(result, stats))
    Console().print(detectable_sentence(stats))
    return 0


async def run_on(
    url: str, settings: Settings, config: SimConfig, *, http: bool = False
) -> tuple[SimResult, CampaignStats]:
    """Run ``config`` on the database at ``url`` (over HTTP with ``http``, else in-process);
    returns the run and what /stats reports at its end."""
    settings = settings.model_copy(update={"database_url": url})
    engine = create_engine(url)
    try:
        app = await bootstrap(settings=settings, clock=FrozenClock(START), engine=engine)
        with Progress(transient=True) as bar:
            task = bar.add_task("Building the shop", total=None)
            people = await setup_shop(app, config)
            bar.update(task, description="Simulating hours", total=config.days * 24)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done + 1)

            if http:
                async with http_world(app) as world:
                    result = await simulate(app, world, people, config, tick)
            else:
                result = await simulate(app, InProcessWorld(app), people, config, tick)
        async with app.uow() as uow:
            stats = await compute_stats(uow, result.campaign_id, result.ended_at)
    finally:
        await engine.dispose()
    return result, stats


def true_effect(result: SimResult) -> float:
    """The true uplift per measured recipient (baht): what the offer did to those it reached,
    spread over all recipients (a failed message changes nothing)."""
    track = result.ledger.campaigns[result.campaign_id]
    by_id = {p.member_id: p for p in result.people}
    days, effect = result.config.attribution_days, result.config.effect
    reached = [by_id[m] for m, (_, outcome) in track.messages.items() if outcome == "sent"]
    total = sum(person.true_effect(effect, days) for person in reached)
    return total / len(track.messages) if track.messages else 0.0


def report_table(result: SimResult, stats: CampaignStats) -> Table:
    truth, held = result.ledger.expected(result.campaign_id, result.ended_at)
    assert held is not None
    table = Table(title=f"Simulated campaign · seed {result.config.seed}")
    for column in ("", "true", "reported", ""):
        table.add_column(column)
    rows: list[tuple[str, object, object]] = [
        ("recipients", truth.measured, stats.recipients.measured),
        ("hold-out", held.measured, stats.holdout.measured),
    ]
    for name in ("sent", "failed", "unreachable", "clicked", "claimed", "redeemed"):
        rows.append((name, getattr(truth, name), getattr(stats.recipients, name)))
    for label, mine, group in (
        ("recipients", truth, stats.recipients),
        ("hold-out", held, stats.holdout),
    ):
        rows.append((f"visits, {label}", mine.visits, group.visits))
        rows.append((f"revenue, {label}", mine.revenue, group.revenue))
        rows.append((f"blocks 48 h, {label}", mine.blocked, group.blocked))
    for name, expected, reported in rows:
        table.add_row(name, str(expected), str(reported), "✓" if expected == reported else "✗")
    real = true_effect(result)
    uplift = stats.revenue_uplift
    if uplift.verdict is Verdict.TOO_FEW:  # /stats shows no number either
        reported, covered = "too few members to tell", ""
    else:
        reported = f"{uplift.difference:.2f} (95%: {uplift.low:.2f} to {uplift.high:.2f})"
        covered = "covered" if uplift.low <= real <= uplift.high else "missed"
    table.add_row("uplift ฿/member", f"{real:.2f}", reported, covered)
    table.add_row("verdict", "", uplift.verdict.value, "")
    return table


def detectable_sentence(stats: CampaignStats) -> str:
    treated, control = stats.recipients.revenue_moments(), stats.holdout.revenue_moments()
    both = Moments(
        treated.n + control.n,
        treated.y + control.y,
        treated.yy + control.yy,
        treated.x + control.x,
        treated.xx + control.xx,
        treated.xy + control.xy,
        treated.same_length()[0] + control.same_length()[0],
        treated.same_length()[1] + control.same_length()[1],
    )
    # the spread the regression-adjusted interval has to cover, as the preview computes it
    mde = minimum_detectable_effect(residual_variance(both), treated.n, control.n)
    return (
        f"With {stats.recipients.measured} recipients (and {stats.holdout.measured} held out) "
        f"you can detect an uplift of about {mde:,.0f} baht per member."
    )
