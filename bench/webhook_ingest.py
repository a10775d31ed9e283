"""Webhook ingest: our Telegram and LINE paths against bare no-op webhooks, on the same rig.

``python -m bench.webhook_ingest [--quick]``. Every server and the load generator run as
separate processes (:mod:`bench.ingest_servers`, :mod:`bench.ingest_load`), so the server under
test has a core of its own; the fake platform APIs our server replies to run in their own
processes too. Rounds alternate baseline and ours, and the best round of each counts.

- *ours*: ``chatcrm serve`` on SQLite (WAL) with both channels: secret / signature check, parse,
  de-duplication (the processed-event log), the member's ``/points`` through the bus (identity,
  member, conversation state, commit), and the reply sent to the fake Bot API / reply endpoint
  before the webhook is answered.
- *baselines*: aiogram's ``SimpleRequestHandler`` with a no-op handler (Telegram); aiohttp +
  line-bot-sdk's ``WebhookParser`` answering 200 (LINE). Both ``gc.freeze()`` after start-up.

Targets: updates/s of ours ÷ the baseline's (closed loop, ``CONCURRENCY`` in flight) >= 0.5;
p99 latency of ours ÷ the baseline's, both offered half the baseline's throughput (open loop)
<= 2. The full form also measures ours without ``gc.freeze()`` (``extra``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from bench.ingest_load import run as generate_load
from bench.ingest_seed import scratch_database, seed_members
from bench.ingest_servers import SECRET
from bench.report import Target, publish
from bot.bootstrap import bootstrap
from bot.config import Settings
from simulator.fakes.line_api import ACCESS_TOKEN, CHANNEL_SECRET
from simulator.fakes.telegram_api import TOKEN

#: Telegram's default ``max_connections`` for a webhook
CONCURRENCY: Final = 40
USERS: Final = 500
QUICK_USERS: Final = 50
PATHS: Final = {"telegram": "/webhook/telegram", "line": "/webhook/line"}
BASELINES: Final = {"telegram": "aiogram", "line": "line-bare"}
SETTLE: Final = 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Fleet:
    """The server processes of one benchmark run; all are killed on exit."""

    def __init__(self, folder: Path, *, quick: bool = False) -> None:
        self.folder = folder
        # the quick form only proves the script runs: it generates the load in this process
        # (a fresh interpreter per load costs more than the load) and settles for less long;
        # the full form gives the generator a process of its own, so it never slows the server
        self.quick = quick
        self.users = QUICK_USERS if quick else USERS
        self.processes: list[subprocess.Popen[bytes]] = []
        self.starting: list[tuple[str, int, subprocess.Popen[bytes]]] = []
        self.next_id = 1_000_000

    def start(
        self,
        kind: str,
        spec: dict[str, Any] | None = None,
        name: str = "",
        module: str = "bench.ingest_servers",
    ) -> int:
        port = free_port()
        log = (self.folder / f"{name or kind}.log").open("wb")
        args = [sys.executable, "-m", module, kind, str(port)]
        process = subprocess.Popen(  # noqa: S603 - our own modules, our own arguments
            [*args, json.dumps(spec or {})], stdout=subprocess.DEVNULL, stderr=log
        )
        self.processes.append(process)
        self.starting.append((kind, port, process))
        return port

    def ready(self) -> None:
        """Wait until every server started so far listens (they start in parallel)."""
        deadline = time.monotonic() + 90
        for kind, port, process in self.starting:
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start; see its log in {self.folder}")
                time.sleep(0.05)
        self.starting.clear()

    def load(self, channel: str, port: int, mode: str, seconds: float, **extra: Any) -> Any:
        spec = {
            "kind": channel,
            "url": f"http://127.0.0.1:{port}{PATHS[channel]}",
            "mode": mode,
            "seconds": seconds,
            "users": self.users,
            "first_id": self.next_id,
            "concurrency": CONCURRENCY,
            **extra,
        }
        self.next_id += 1_000_000  # every update id is new, across runs and servers
        if self.quick:
            result = asyncio.run(generate_load(spec))
        else:
            done = subprocess.run(  # noqa: S603 - our own module, our own arguments
                [sys.executable, "-m", "bench.ingest_load", json.dumps(spec)],
                capture_output=True,
                check=True,
            )
            result = json.loads(done.stdout)
        if mode == "open":  # let a server that fell behind finish what it still holds
            time.sleep(SETTLE / 5 if self.quick else SETTLE)
        return result

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def fleet(*, quick: bool = False) -> Iterator[Fleet]:
    with tempfile.TemporaryDirectory(prefix="chatcrm-ingest-") as folder:
        running = Fleet(Path(folder), quick=quick)
        try:
            yield running
        finally:
            running.stop()


def our_env(database_url: str, telegram_api: int, line_api: int) -> dict[str, str]:
    return {
        "CHATCRM_DATABASE_URL": database_url,
        "CHATCRM_HOST": "127.0.0.1",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": f"http://127.0.0.1:{telegram_api}",
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_BASE": f"http://127.0.0.1:{line_api}",
        "LINE_DATA_API_BASE": f"http://127.0.0.1:{line_api}",
        # replies share the dispatcher's send budget (28/s and 1/s per chat by default): at
        # those rates the bench would measure the budget, not ingest, and the baselines' replies
        # are not paced; the fake Bot API takes whatever it is sent
        "TELEGRAM_RATE": "100000",
        "TELEGRAM_CHAT_RATE": "1000",
    }


async def prepare(database_url: str, users: int) -> None:
    settings = Settings(CHATCRM_DATABASE_URL=database_url, _env_file=None)
    app = await bootstrap(settings)  # migrates
    try:
        await seed_members(app, users)
    finally:
        await app.close()


def measure(
    run: Fleet, channel: str, ports: dict[str, int], rounds: int, seconds: float, quick: bool
) -> dict[str, Any]:
    """Best-of-``rounds`` throughput of each server, then p99 at half the baseline's rate
    (the quick form skips the warm-up and the extra latency run: it only proves the script runs)."""
    best: dict[str, dict[str, Any]] = {}
    for name in () if quick else ports:  # warm-up: imports, caches, the database's pages
        run.load(channel, ports[name], "closed", 1.0)
    for _ in range(rounds):
        for name, port in ports.items():
            result = run.load(channel, port, "closed", seconds)
            if name not in best or result["per_second"] > best[name]["per_second"]:
                best[name] = result
    rate = best["baseline"]["per_second"] / 2
    grace = min(seconds, 2.0)
    latency = {
        name: run.load(channel, port, "open", seconds, rate=rate, grace=grace)
        for name, port in ports.items()
    }
    # for the reader: ours at half of its own best rate (unloaded latency, not a target)
    # (the quick form skips it: its one short round says nothing about latency)
    own = best["ours"]["per_second"] / 2
    at_own = (
        None if quick else run.load(channel, ports["ours"], "open", seconds, rate=own, grace=grace)
    )
    return {"rate": rate, "throughput": best, "latency": latency, "ours_at_half_own": at_own}


def targets_for(channel: str, figures: dict[str, Any]) -> list[Target]:
    ours, base = figures["throughput"]["ours"], figures["throughput"]["baseline"]
    lat_ours, lat_base = figures["latency"]["ours"], figures["latency"]["baseline"]
    own = figures["ours_at_half_own"]
    at_own = (
        f"ours at half its own rate ({own['per_second']:.0f}/s): p99 {own['p99_ms']:.1f} ms"
        if own is not None
        else "ours at half its own rate: not measured in the quick form"
    )
    label = "aiogram no-op" if channel == "telegram" else "aiohttp + WebhookParser no-op"
    return [
        Target(
            f"{channel} ingest: updates/s ours ÷ {label}",
            ours["per_second"],
            base["per_second"],
            "updates/s",
            0.5,
            note=f"{CONCURRENCY} in flight; errors ours {ours['errors']}, base {base['errors']}",
        ),
        Target(
            f"{channel} p99 at {figures['rate']:.0f}/s (half the baseline's): ours ÷ baseline",
            lat_ours["p99_ms"],
            lat_base["p99_ms"],
            "ms",
            2.0,
            direction="<=",
            note=(
                f"p50 ours {lat_ours['p50_ms']:.1f} ms, baseline {lat_base['p50_ms']:.1f} ms; "
                f"{lat_ours['unfinished']} of ours unfinished; {at_own}"
            ),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI)")
    parser.add_argument(
        "--database-url", help="run ours on this PostgreSQL server (a scratch database)"
    )
    args = parser.parse_args()
    quick = args.quick
    with tempfile.TemporaryDirectory(prefix="chatcrm-ingest-db-") as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'ingest.db'}"
        with scratch_database(args.database_url or sqlite) as database_url:
            targets, extra = run_all(database_url, quick)
    backend = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    named = [replace(target, name=f"{target.name} [{backend}]") for target in targets]
    publish("webhook_ingest", named, quick=quick, extra=extra | {"database": backend})


def run_all(database_url: str, quick: bool) -> tuple[list[Target], dict[str, Any]]:
    """Every measurement of one run (the servers are stopped when it returns)."""
    rounds, seconds = (1, 0.5) if quick else (3, 5.0)
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    with fleet(quick=quick) as run:
        # the servers that need no database start while it is prepared (set-up, not measured)
        telegram_api, line_api = run.start("fake-telegram"), run.start("fake-line")
        baselines = {channel: run.start(kind) for channel, kind in BASELINES.items()}
        asyncio.run(prepare(database_url, run.users))
        env = our_env(database_url, telegram_api, line_api)
        ours = run.start("ours", {"env": env, "freeze": True}, name="ours")
        unfrozen = None if quick else run.start("ours", {"env": env, "freeze": False}, "thawed")
        run.ready()
        for channel, baseline in baselines.items():
            ports = {"baseline": baseline, "ours": ours}
            figures = measure(run, channel, ports, rounds, seconds, quick)
            targets += targets_for(channel, figures)
            extra[channel] = figures
            if unfrozen is not None:  # `serve` without gc.freeze(), at the rate ours sustains
                thawed = run.load(channel, unfrozen, "closed", seconds)
                rate = figures["throughput"]["ours"]["per_second"] / 2
                frozen = figures["ours_at_half_own"]
                open_ = run.load(channel, unfrozen, "open", seconds, rate=rate, grace=2.0)
                extra[f"{channel}_without_freeze"] = {"throughput": thawed, "latency": open_}
                print(
                    f"  {channel} serve without gc.freeze(): {thawed['per_second']:.0f} "
                    f"updates/s, p50/p99 {open_['p50_ms']:.1f}/{open_['p99_ms']:.1f} ms at "
                    f"{rate:.0f}/s; with: {figures['throughput']['ours']['per_second']:.0f} "
                    f"updates/s, p50/p99 {frozen['p50_ms']:.1f}/{frozen['p99_ms']:.1f} ms"
                )
    return targets, extra


if __name__ == "__main__":
    main()
