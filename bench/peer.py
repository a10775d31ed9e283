"""Peer: ``chatcrm serve`` against a typical aiogram + SQLAlchemy ORM bot and the raw-driver
floor, each doing the same work per Telegram ``/points`` update and replying, in paired rounds.

``python -m bench.peer [--quick] [--database-url URL ...]`` (default: a scratch SQLite file and
a scratch database on the local PostgreSQL, skipped with a note when it does not answer).
Servers and load run as in :mod:`bench.webhook_ingest` (each server a process of its own, the
fake Bot API the replies go to in another); the baselines are :mod:`bench.peer_servers`.

Every round runs each server once (closed loop, 40 in flight, a new ``update_id`` per request,
the order rotating from round to round); before each run every chat account's ``last_seen_at``
is set an hour back (outside the timing), so each member's first update of a run writes it as a
member returning after a while would. CPU per update is the serving process's own user +
system time (``/proc/PID/stat``, the kernel's accounting ``getrusage`` reads) over the run ÷
the updates it answered. Each figure is min / median / max over the rounds; each ratio is taken
within a round (ours and its baseline side by side) and then summarised.

On SQLite a second ``serve`` with ``CHATCRM_SQLITE_SYNCHRONOUS=full`` runs in the same rounds:
the cost of flushing every commit. Targets (issue 17): ours ÷ floor ≥ 0.70, ours ÷ peer ≥ 3.0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import make_url

from bench.data_shop import DEFAULT_PG, reachable
from bench.ingest_seed import scratch_database
from bench.report import Target, publish
from bench.webhook_ingest import Fleet, fleet, our_env, prepare

ROUNDS: Final = {"quick": 3, "full": 5}
SECONDS: Final = {"quick": 0.3, "full": 5.0}
TICK: Final = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def age_last_seen(database_url: str) -> None:
    """Every chat account last seen an hour ago (the runs' first update of each writes it)."""
    past = datetime.now(UTC) - timedelta(hours=1)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database), timeout=30) as connection:
            stamp = past.replace(tzinfo=None).isoformat(sep=" ")
            connection.execute("UPDATE channel_identities SET last_seen_at = ?", (stamp,))
        return
    import asyncpg  # type: ignore[import-untyped]

    async def update() -> None:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("UPDATE channel_identities SET last_seen_at = $1", past)
        finally:
            await connection.close()

    asyncio.run(update())


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def shown(figures: dict[str, float], digits: int = 0) -> str:
    return "/".join(f"{figures[key]:.{digits}f}" for key in ("min", "median", "max"))


def start_servers(run: Fleet, database_url: str, quick: bool) -> dict[str, tuple[int, int]]:
    """(port, pid) of each server under test, started in parallel and ready."""
    telegram_api = run.start("fake-telegram")
    line_api = run.start("fake-line")
    api = f"http://127.0.0.1:{telegram_api}"
    asyncio.run(prepare(database_url, run.users))
    spec = {"database_url": database_url, "telegram_api": api}
    env = our_env(database_url, telegram_api, line_api)
    kinds: dict[str, Any] = {
        "floor": lambda: run.start("floor", spec, "floor", module="bench.peer_servers"),
        "peer": lambda: run.start("peer", spec, "peer", module="bench.peer_servers"),
        "ours": lambda: run.start("ours", {"env": env, "freeze": True}, name="ours"),
    }
    if database_url.startswith("sqlite") and not quick:
        full = env | {"CHATCRM_SQLITE_SYNCHRONOUS": "full"}
        kinds["ours_full"] = lambda: run.start("ours", {"env": full, "freeze": True}, "full")
    servers = {}
    for name, start in kinds.items():
        port = start()
        servers[name] = (port, run.processes[-1].pid)
    run.ready()
    return servers


def rounds_on(database_url: str, quick: bool, rounds: int, seconds: float) -> dict[str, Any]:
    """Every server's updates/s and CPU ms per update in each round, and the ratios per round."""
    with fleet(quick=quick) as run:
        servers = start_servers(run, database_url, quick)
        names = list(servers)
        if not quick:  # warm-up: imports, caches, the database's pages
            for port, _ in servers.values():
                run.load("telegram", port, "closed", 1.0)
        rates: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        errors = dict.fromkeys(names, 0)
        for round_ in range(rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                port, pid = servers[name]
                age_last_seen(database_url)
                before = cpu_seconds(pid)
                result = run.load("telegram", port, "closed", seconds)
                used = cpu_seconds(pid) - before
                rates[name].append(result["per_second"])
                cpu[name].append(1000 * used / max(result["ok"], 1))
                errors[name] += result["errors"]
    ratios = {
        f"ours/{other}": [o / b for o, b in zip(rates["ours"], rates[other], strict=True)]
        for other in ("floor", "peer")
    }
    if "ours_full" in rates:
        ratios["full/ours"] = [
            f / o for f, o in zip(rates["ours_full"], rates["ours"], strict=True)
        ]
    return {
        "rounds": rounds,
        "seconds": seconds,
        "users": run.users,
        "updates_per_s": {name: spread(values) for name, values in rates.items()},
        "cpu_ms_per_update": {name: spread(values) for name, values in cpu.items()},
        "errors": errors,
        "ratios": {name: spread(values) for name, values in ratios.items()},
        "raw": {"updates_per_s": rates, "cpu_ms_per_update": cpu},
    }


LABELS: Final = {
    "floor": "raw-driver floor (same statements, one trip, with the reply)",
    "peer": "aiogram 3 + SQLAlchemy ORM peer",
}


def targets_for(backend: str, figures: dict[str, Any]) -> list[Target]:
    rates, cpu = figures["updates_per_s"], figures["cpu_ms_per_update"]
    every = (
        f"Telegram /points, {figures['users']} members, last_seen_at an hour old at each run's "
        f"start, 40 in flight, {figures['rounds']} paired rounds of {figures['seconds']} s"
    )
    targets = []
    for other, goal in (("floor", 0.70), ("peer", 3.0)):
        ratio = figures["ratios"][f"ours/{other}"]
        targets.append(
            Target(
                f"[{backend}] updates/s chatcrm serve ÷ {LABELS[other]}",
                rates["ours"]["median"],
                rates[other]["median"],
                "updates/s (medians)",
                goal,
                note=(
                    f"ratio per round min/median/max {shown(ratio, 2)}; updates/s ours "
                    f"{shown(rates['ours'])}, {other} {shown(rates[other])}; CPU ms/update "
                    f"ours {shown(cpu['ours'], 2)}, {other} {shown(cpu[other], 2)}; "
                    f"errors ours {figures['errors']['ours']}, {other} "
                    f"{figures['errors'][other]}; {every}"
                ),
            )
        )
    if "ours_full" in rates:
        ratio = figures["ratios"]["full/ours"]
        targets.append(
            Target(
                f"[{backend}] updates/s serve with CHATCRM_SQLITE_SYNCHRONOUS=full ÷ normal",
                rates["ours_full"]["median"],
                rates["ours"]["median"],
                "updates/s (medians)",
                0.0,
                note=(
                    f"no target: the cost of durability; ratio per round {shown(ratio, 2)}; "
                    f"full {shown(rates['ours_full'])} updates/s, CPU ms/update "
                    f"{shown(cpu['ours_full'], 2)}"
                ),
            )
        )
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI)")
    parser.add_argument(
        "--database-url",
        action="append",
        help="SQLite or PostgreSQL URL (default both; the quick form: SQLite only)",
    )
    parser.add_argument("--rounds", type=int, help="paired rounds (default 5, quick 3; >= 3)")
    parser.add_argument("--seconds", type=float, help="seconds a server runs a round")
    args = parser.parse_args()
    form = "quick" if args.quick else "full"
    rounds, seconds = max(args.rounds or ROUNDS[form], 3), args.seconds or SECONDS[form]
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="chatcrm-peer-") as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'peer.db'}"
        for url in args.database_url or ([sqlite] if args.quick else [sqlite, DEFAULT_PG]):
            backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            if not asyncio.run(reachable(url)):
                print(f"  {backend}: not measured (the server does not answer)")
                continue
            with scratch_database(url) as database_url:
                figures = rounds_on(database_url, args.quick, rounds, seconds)
            extra[backend] = figures
            targets += targets_for(backend, figures)
    publish("peer", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
