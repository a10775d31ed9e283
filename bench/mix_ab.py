"""This checkout's ``chatcrm serve`` against another checkout's (main's) on the realistic mix.

``python -m bench.mix_ab CHANNEL ROUNDS SECONDS OTHER_CHECKOUT [POSTGRESQL_URL] [--open]
[--own-migrations]``:
:mod:`bench.mix`'s servers and load (closed loop, 40 in flight, every chat account's
``last_seen_at`` an hour back before each run) for three servers side by side — ``ours`` (this
checkout), ``other`` (the same module run with OTHER_CHECKOUT as its working directory, so its
packages are imported from there) and the raw-driver floor — in paired rounds, the order
rotating from round to round. Each server has its own SQLite database, or with
POSTGRESQL_URL its own scratch database on that server (``<database>_ours``,
``<database>_other`` and ``<database>_floor``, made and dropped here: a database the floor's
load also grew would make ``ours`` the slower of two equal checkouts). Prints each server's
updates/s and CPU ms per update (its own ``/proc`` accounting) min/median/max, and the ratios
taken within each round. For measuring a change to the hot path against the code before it;
the targets are :mod:`bench.mix`'s. With ``--open`` each round then offers all three half that
round's floor throughput (open loop, latency from the scheduled start, as :mod:`bench.mix`) and
prints each one's p50 and p99, and the p99 ratios taken within each round. With
``--own-migrations`` ``other``'s database is migrated and seeded by OTHER_CHECKOUT's own code
(in a process run there), so a checkout older than this one's migrations can be measured
(its code refuses a database a newer checkout migrated).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

import bench.mix as mix
from bench.peer import age_last_seen, cpu_seconds, shown, spread
from bench.webhook_ingest import Fleet, fleet, free_port, our_env, prepare

NAMES: Final = ("ours", "other", "floor")
#: whose sign-up people each server gets in :class:`bench.mix.Streams` (no peer runs here)
STREAM: Final = {"ours": "ours", "other": "peer", "floor": "floor"}


def start_other(run: Fleet, env: dict[str, str], checkout: str) -> int:
    """``chatcrm serve`` from ``checkout`` (its working directory comes first on the path)."""
    port = free_port()
    log = (run.folder / "other.log").open("wb")
    spec = json.dumps({"env": env, "freeze": True})
    process = subprocess.Popen(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", "bench.ingest_servers", "ours", str(port), spec],
        cwd=checkout,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    run.processes.append(process)
    run.starting.append(("other", port, process))
    return port


def prepare_in(checkout: str, url: str, users: int) -> None:
    """``url``'s database migrated and seeded by ``checkout``'s own code (its migrations)."""
    code = (
        "import asyncio, sys, bench.mix as m, bench.webhook_ingest as w; "
        "url, users = sys.argv[1], int(sys.argv[2]); "
        "asyncio.run(w.prepare(url, users)); asyncio.run(m.seed_shop(url))"
    )
    subprocess.run(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-c", code, url, str(users)], cwd=checkout, check=True
    )


def servers_of(
    run: Fleet, urls: dict[str, str], checkout: str, *, own_migrations: bool = False
) -> dict[str, tuple[int, int]]:
    telegram, line = run.start("fake-telegram"), run.start("fake-line")
    for name in NAMES:  # the floor on a database of its own, prepared as ours'
        if name == "other" and own_migrations:
            prepare_in(checkout, urls[name], run.users)
            continue
        asyncio.run(prepare(urls[name], run.users))
        asyncio.run(mix.seed_shop(urls[name]))
    ours = run.start("ours", {"env": our_env(urls["ours"], telegram, line)}, name="ours")
    servers = {"ours": (ours, run.processes[-1].pid)}
    other = start_other(run, our_env(urls["other"], telegram, line), checkout)
    servers["other"] = (other, run.processes[-1].pid)
    spec = {
        "database_url": urls["floor"],
        "telegram_api": f"http://127.0.0.1:{telegram}",
        "line_api": f"http://127.0.0.1:{line}",
    }
    floor = run.start("floor", spec, "mix-floor", module="bench.mix_servers")
    servers["floor"] = (floor, run.processes[-1].pid)
    run.ready()
    return servers


@contextlib.contextmanager
def databases(folder: str, postgresql: str | None) -> Iterator[dict[str, str]]:
    """Each server's database URL: a SQLite file in ``folder``, or a scratch PostgreSQL one."""
    if postgresql is None:
        yield {name: f"sqlite+aiosqlite:///{Path(folder) / name}.db" for name in NAMES}
        return
    url = make_url(postgresql)
    dsn = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    names = {name: f"{url.database}_{name}" for name in NAMES}

    async def admin(*statements: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    drop = [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in names.values()]
    asyncio.run(admin(*drop, *(f'CREATE DATABASE "{db}"' for db in names.values())))
    try:
        yield {n: url.set(database=db).render_as_string(False) for n, db in names.items()}
    finally:
        asyncio.run(admin(*drop))


def half_the_floor(
    run: Fleet, streams: mix.Streams, servers: dict[str, tuple[int, int]], got: dict[str, Any]
) -> None:
    """Each server offered half this round's floor throughput, open loop: its p50 and p99."""
    channel, seconds, urls, round_ = got["channel"], got["seconds"], got["urls"], got["round"]
    rate = got["rate"]["floor"][-1] / 2
    got["offered"].append(rate)
    for name in NAMES[round_ % 3 :] + NAMES[: round_ % 3]:
        age_last_seen(urls[name])
        port = servers[name][0]
        result = streams.load(
            run, STREAM[name], port, channel, "open", seconds, rate=rate, grace=2.0
        )
        got["p99"][name].append(result["p99_ms"])
        got["p50"][name].append(result["p50_ms"])
        got["errors"][name] += result["errors"] + result["unfinished"]


def rounds(
    channel: str,
    count: int,
    seconds: float,
    checkout: str,
    postgresql: str | None = None,
    *,
    open_loop: bool = False,
    own_migrations: bool = False,
) -> dict[str, Any]:
    rate: dict[str, list[float]] = {name: [] for name in NAMES}
    cpu: dict[str, list[float]] = {name: [] for name in NAMES}
    errors = dict.fromkeys(NAMES, 0)
    tail: dict[str, Any] = {
        "p99": {name: [] for name in NAMES},
        "p50": {name: [] for name in NAMES},
        "offered": [],
    }
    with (
        tempfile.TemporaryDirectory(prefix="chatcrm-mix-ab-") as folder,
        databases(folder, postgresql) as urls,
        fleet() as run,
    ):
        servers = servers_of(run, urls, checkout, own_migrations=own_migrations)
        streams = mix.Streams()
        for name, (port, _) in servers.items():  # warm-up
            streams.load(run, STREAM[name], port, channel, "closed", 1.0)
        for round_ in range(count):
            for name in NAMES[round_ % 3 :] + NAMES[: round_ % 3]:
                port, pid = servers[name]
                age_last_seen(urls[name])
                before = cpu_seconds(pid)
                result = streams.load(run, STREAM[name], port, channel, "closed", seconds)
                rate[name].append(result["per_second"])
                cpu[name].append(1000 * (cpu_seconds(pid) - before) / max(result["ok"], 1))
                errors[name] += result["errors"]
            if open_loop:
                got = {"channel": channel, "seconds": seconds, "urls": urls, "round": round_}
                half_the_floor(
                    run, streams, servers, {**got, **tail, "rate": rate, "errors": errors}
                )
            print(round_, {n: (round(rate[n][-1]), round(cpu[n][-1], 2)) for n in NAMES})
    return {"rate": rate, "cpu": cpu, "errors": errors, **(tail if open_loop else {})}


def print_tail(got: dict[str, Any]) -> None:
    """The open loop's figures (``--open``), ratios taken within each round."""
    p99, p50 = got["p99"], got["p50"]
    print(f"  offered (half the floor's updates/s) {shown(spread(got['offered']))}")
    for name in NAMES:
        print(
            f"  {name:5} p50 ms {shown(spread(p50[name]), 1)}  p99 ms {shown(spread(p99[name]), 1)}"
        )
    for a, b in (("ours", "floor"), ("other", "floor"), ("ours", "other")):
        ratios = [x / y for x, y in zip(p99[a], p99[b], strict=True)]
        print(
            f"  p99 {a}/{b}: {shown(spread(ratios), 2)} (per round {[round(r, 2) for r in ratios]})"
        )


def main() -> None:
    open_loop = "--open" in sys.argv
    own_migrations = "--own-migrations" in sys.argv
    argv = [arg for arg in sys.argv if arg not in ("--open", "--own-migrations")]
    channel, count, seconds, checkout = argv[1:5]
    postgresql = argv[5] if len(argv) > 5 else None
    before = os.getloadavg()
    got = rounds(
        channel,
        max(int(count), 3),
        float(seconds),
        checkout,
        postgresql,
        open_loop=open_loop,
        own_migrations=own_migrations,
    )
    rate, cpu = got["rate"], got["cpu"]
    print(f"{channel}: load average {before} before, {os.getloadavg()} after")
    for name in NAMES:
        print(
            f"  {name:5} updates/s {shown(spread(rate[name]))}  CPU ms/update "
            f"{shown(spread(cpu[name]), 2)}  errors {got['errors'][name]}"
        )
    for a, b in (("ours", "floor"), ("other", "floor"), ("ours", "other")):
        rates = [x / y for x, y in zip(rate[a], rate[b], strict=True)]
        cpus = [x / y for x, y in zip(cpu[a], cpu[b], strict=True)]
        print(f"  {a}/{b}: updates/s {shown(spread(rates), 2)}  CPU {shown(spread(cpus), 2)}")
    if open_loop:
        print_tail(got)
    print("RAW", json.dumps(got))


if __name__ == "__main__":
    main()
