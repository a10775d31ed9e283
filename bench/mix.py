"""The realistic mix: ``chatcrm serve`` against the raw-driver floor and a typical peer, each
doing the same mix of updates with the reply, on Telegram and LINE, SQLite and PostgreSQL.

``python -m bench.mix [--quick] [--database-url URL ...] [--channel telegram|line ...]``
(the quick form: SQLite and Telegram alone). The mix is :mod:`bench.mix_load`'s (``/points``,
``/card``, button presses, free text to the inbox, sign-up steps of new people, staff
``/sale``), sent as real webhooks (Telegram's secret
header, LINE's signed bodies with reply tokens the fake accepts once) to three servers, each a
process of its own: ``chatcrm serve`` (:mod:`bench.ingest_servers`), the floor and the peer
(:mod:`bench.mix_servers`). The fake Bot API and LINE API run in processes of their own.

Every round, for each channel: each server's throughput (closed loop, 40 in flight, the order
rotating from round to round; every chat account's ``last_seen_at`` set an hour back first,
outside the timing, so each member's first update of a run writes it), then ours and the floor
offered half of that round's floor throughput (open loop, latency from the scheduled start)
for p99. CPU per update: the server process's own user + system time over the run
(``/proc/PID/stat``, what ``getrusage`` reads) ÷ the updates it answered. Every figure is
min / median / max over the rounds; every ratio is taken within a round, then summarised.

Targets (issue 17): ours ÷ floor ≥ 0.70, ours ÷ peer ≥ 3.0, p99 ours ÷ floor ≤ 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Final

from bench.data_shop import DEFAULT_PG, reachable
from bench.ingest_seed import scratch_database
from bench.mix_load import STAFF_LINE, STAFF_TELEGRAM, signups_in
from bench.peer import age_last_seen, cpu_seconds, shown, spread
from bench.report import Target, publish
from bench.webhook_ingest import Fleet, fleet, our_env, prepare
from bot.bootstrap import bootstrap
from bot.config import Settings

ROUNDS: Final = {"quick": 3, "full": 3}
SECONDS: Final = {"quick": 0.6, "full": 4.0}
SERVERS: Final = ("ours", "floor", "peer")
LABELS: Final = {
    "ours": "chatcrm serve",
    "floor": "raw-driver floor (same statements, one trip, with the reply)",
    "peer": "aiogram 3 / line-bot-sdk 3 + SQLAlchemy ORM peer",
}


async def seed_shop(database_url: str) -> None:
    """One branch and an owner on each channel (the mix's ``/sale`` comes from them)."""
    app = await bootstrap(Settings(CHATCRM_DATABASE_URL=database_url, _env_file=None))
    try:
        async with app.uow() as uow:
            await uow.branches.add("main", "สาขาหลัก", "Main")
            now = app.clock.now()
            await uow.staff.add("telegram", str(STAFF_TELEGRAM), "Owner", "owner", None, now)
            await uow.staff.add("line", STAFF_LINE, "Owner", "owner", None, now)
            await uow.commit()
    finally:
        await app.close()


def start_servers(run: Fleet, database_url: str) -> dict[str, tuple[int, int]]:
    """(port, pid) of each server under test, started in parallel and ready."""
    telegram_api, line_api = run.start("fake-telegram"), run.start("fake-line")
    asyncio.run(prepare(database_url, run.users))
    asyncio.run(seed_shop(database_url))
    spec = {
        "database_url": database_url,
        "telegram_api": f"http://127.0.0.1:{telegram_api}",
        "line_api": f"http://127.0.0.1:{line_api}",
    }
    env = our_env(database_url, telegram_api, line_api)
    servers = {}
    for name in SERVERS:
        if name == "ours":
            port = run.start("ours", {"env": env, "freeze": True}, name="ours")
        else:
            port = run.start(name, spec, f"mix-{name}", module="bench.mix_servers")
        servers[name] = (port, run.processes[-1].pid)
    run.ready()
    return servers


class Streams:
    """Each (server, channel)'s own sign-up people, their steps going on from run to run."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], int] = {}

    def load(
        self,
        run: Fleet,
        name: str,
        port: int,
        channel: str,
        mode: str,
        seconds: float,
        **extra: Any,
    ) -> Any:
        key = (name, channel)
        people = 10_000_000 * (1 + 2 * SERVERS.index(name) + ("telegram", "line").index(channel))
        before = self.sent.get(key, 0)
        result = run.load(
            channel, port, mode, seconds, mix=True, people=people, signups_before=before, **extra
        )
        self.sent[key] = before + signups_in(result["sent"])
        return result


class Figures:
    """Each server's figures per round on one channel."""

    def __init__(self) -> None:
        self.rate: dict[str, list[float]] = {name: [] for name in SERVERS}
        self.cpu: dict[str, list[float]] = {name: [] for name in SERVERS}
        self.p99: dict[str, list[float]] = {"ours": [], "floor": []}
        self.p50: dict[str, list[float]] = {"ours": [], "floor": []}
        self.offered: list[float] = []
        self.errors = dict.fromkeys(SERVERS, 0)
        self.unfinished = 0

    def summary(self) -> dict[str, Any]:
        ratios = {
            f"ours/{other}": [
                o / b for o, b in zip(self.rate["ours"], self.rate[other], strict=True)
            ]
            for other in ("floor", "peer")
        }
        ratios["p99 ours/floor"] = [
            o / f for o, f in zip(self.p99["ours"], self.p99["floor"], strict=True)
        ]
        ratios["cpu ours/floor"] = [
            o / f for o, f in zip(self.cpu["ours"], self.cpu["floor"], strict=True)
        ]
        return {
            "updates_per_s": {k: spread(v) for k, v in self.rate.items()},
            "cpu_ms_per_update": {k: spread(v) for k, v in self.cpu.items()},
            "p99_ms": {k: spread(v) for k, v in self.p99.items()},
            "p50_ms": {k: spread(v) for k, v in self.p50.items()},
            "offered_per_s": spread(self.offered),
            "ratios": {k: spread(v) for k, v in ratios.items()},
            "errors": self.errors,
            "unfinished": self.unfinished,
            "raw": {"rate": self.rate, "cpu": self.cpu, "p99": self.p99},
        }


def one_round(
    run: Fleet,
    streams: Streams,
    servers: dict[str, tuple[int, int]],
    channel: str,
    round_: int,
    seconds: float,
    database_url: str,
    figures: Figures,
) -> None:
    names = list(SERVERS[round_ % 3 :] + SERVERS[: round_ % 3])
    for name in names:
        port, pid = servers[name]
        age_last_seen(database_url)
        before = cpu_seconds(pid)
        result = streams.load(run, name, port, channel, "closed", seconds)
        figures.rate[name].append(result["per_second"])
        figures.cpu[name].append(1000 * (cpu_seconds(pid) - before) / max(result["ok"], 1))
        figures.errors[name] += result["errors"]
    rate = figures.rate["floor"][-1] / 2
    figures.offered.append(rate)
    for name in [n for n in names if n != "peer"]:
        age_last_seen(database_url)
        result = streams.load(
            run, name, servers[name][0], channel, "open", seconds, rate=rate, grace=2.0
        )
        figures.p99[name].append(result["p99_ms"])
        figures.p50[name].append(result["p50_ms"])
        figures.errors[name] += result["errors"]
        if name == "ours":
            figures.unfinished += result["unfinished"]


def rounds_on(
    database_url: str, channels: list[str], quick: bool, rounds: int, seconds: float
) -> dict[str, Any]:
    with fleet(quick=quick) as run:
        servers = start_servers(run, database_url)
        streams = Streams()
        if not quick:  # warm-up: imports, caches, the database's pages
            for name, (port, _) in servers.items():
                for channel in channels:
                    streams.load(run, name, port, channel, "closed", 1.0)
        out: dict[str, Any] = {"rounds": rounds, "seconds": seconds, "users": run.users}
        for channel in channels:
            figures = Figures()
            for round_ in range(rounds):
                one_round(run, streams, servers, channel, round_, seconds, database_url, figures)
            out[channel] = figures.summary()
    return out


def targets_for(backend: str, channel: str, figures: dict[str, Any], every: str) -> list[Target]:
    got = figures[channel]
    rates, cpu, ratios = got["updates_per_s"], got["cpu_ms_per_update"], got["ratios"]
    where = f"[{backend}, {channel}, mix]"
    cpus = ", ".join(f"{name} {shown(cpu[name], 2)}" for name in SERVERS)
    targets = []
    for other, goal in (("floor", 0.70), ("peer", 3.0)):
        targets.append(
            Target(
                f"{where} updates/s chatcrm serve ÷ {LABELS[other]}",
                rates["ours"]["median"],
                rates[other]["median"],
                "updates/s (medians)",
                goal,
                note=(
                    f"ratio per round {shown(ratios[f'ours/{other}'], 2)}; updates/s ours "
                    f"{shown(rates['ours'])}, {other} {shown(rates[other])}; CPU ms/update "
                    f"{cpus}; errors {got['errors']}; {every}"
                ),
            )
        )
    p99 = got["p99_ms"]
    targets.append(
        Target(
            f"{where} p99 at half the floor's throughput: chatcrm serve ÷ floor",
            p99["ours"]["median"],
            p99["floor"]["median"],
            "ms (medians)",
            2.0,
            direction="<=",
            note=(
                f"ratio per round {shown(ratios['p99 ours/floor'], 2)}; offered "
                f"{shown(got['offered_per_s'])}/s; p99 ours {shown(p99['ours'], 1)}, floor "
                f"{shown(p99['floor'], 1)} ms; p50 ours {shown(got['p50_ms']['ours'], 1)}, "
                f"floor {shown(got['p50_ms']['floor'], 1)} ms; {got['unfinished']} of ours cut "
                f"unfinished"
            ),
        )
    )
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI)")
    parser.add_argument("--database-url", action="append", help="SQLite or PostgreSQL URL")
    parser.add_argument("--channel", action="append", choices=("telegram", "line"))
    parser.add_argument("--rounds", type=int, help="paired rounds (>= 3)")
    parser.add_argument("--seconds", type=float, help="seconds a server runs a round")
    args = parser.parse_args()
    form = "quick" if args.quick else "full"
    rounds, seconds = max(args.rounds or ROUNDS[form], 3), args.seconds or SECONDS[form]
    channels = args.channel or (["telegram"] if args.quick else ["telegram", "line"])
    targets: list[Target] = []
    extra: dict[str, Any] = {"load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="chatcrm-mix-") as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'mix.db'}"
        for url in args.database_url or ([sqlite] if args.quick else [sqlite, DEFAULT_PG]):
            backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            if not asyncio.run(reachable(url)):
                print(f"  {backend}: not measured (the server does not answer)")
                continue
            started = os.getloadavg()[0]
            with scratch_database(url) as database_url:
                figures = rounds_on(database_url, channels, args.quick, rounds, seconds)
            extra[backend] = figures
            every = (
                f"{figures['users']} members + new people signing up, 40 in flight, "
                f"{rounds} paired rounds of {seconds} s, load average {started:.1f} before "
                f"the rounds and {os.getloadavg()[0]:.1f} after"
            )
            for channel in channels:
                targets += targets_for(backend, channel, figures, every)
    extra["load_average_after"] = os.getloadavg()
    publish("mix", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
