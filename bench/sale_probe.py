"""A staff ``/sale`` alone, this checkout against another's, in paired rounds.

``python -m bench.sale_probe OTHER_CHECKOUT ROUNDS SALES [POSTGRESQL_URL]``: in each round,
``ours`` (this checkout) and ``other`` (the same module run with OTHER_CHECKOUT as its working
directory, so its packages are imported from there; this file and
``bench/probe_support.py`` must be there too) each run in a process of their own on a
fresh database (SQLite in a temporary directory, or a scratch database ``<database>_probe`` on
POSTGRESQL_URL's server, made and dropped here): an owner on LINE, one branch, 200 members on
LINE, then SALES ``/sale PHONE AMOUNT`` (the mix's form: a generated receipt) through
``app.bus.handle``, one at a time, after 40 unmeasured ones. Each event's CPU (the process's
own, which counts SQLite's thread) and wall time are taken around the handling; the round's
p50 and p99 are printed per side and the ratios within each round, the order alternating.

The realistic mix (:mod:`bench.mix_ab`) sends a ``/sale`` as one update in 20, too few for a
change to what a sale costs to show there on a shared machine; this measures that cost.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench.probe_support import fresh_pg, run_child, spread

MEMBERS: Final = 200
WARM: Final = 40


async def _child(url: str, sales: int) -> dict[str, float]:
    from bot.bootstrap import bootstrap
    from bot.config import Settings
    from bot.core.messages import Channel
    from tests.unit.staff_support import ensure_branches, make_member, staff_chat

    settings = Settings(CHATCRM_DATABASE_URL=url, _env_file=None)
    app = await bootstrap(settings=settings)
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "U" + "0" * 32, "owner", None, channel=Channel.LINE)
    phones = [f"08{n:08d}" for n in range(MEMBERS)]
    for n, phone in enumerate(phones):
        await make_member(app, f"M{n}", phone, user_id=f"U{n:032d}"[-33:], channel=Channel.LINE)
    cpu: list[float] = []
    wall: list[float] = []
    for n in range(WARM + sales):
        text = f"/sale {phones[n % MEMBERS]} {100 + n % 400}"
        c0, w0 = time.process_time(), time.perf_counter()
        await owner.say(text)
        c1, w1 = time.process_time(), time.perf_counter()
        if n >= WARM:
            cpu.append((c1 - c0) * 1000)
            wall.append((w1 - w0) * 1000)
    await app.close()
    q = statistics.quantiles
    return {
        "cpu_p50": statistics.median(cpu),
        "cpu_p99": q(cpu, n=100)[98],
        "wall_p50": statistics.median(wall),
    }


def main(argv: list[str]) -> None:
    if argv[0] == "--child":
        print(json.dumps(asyncio.run(_child(argv[1], int(argv[2])))))
        return
    other, rounds, sales = Path(argv[0]).resolve(), int(argv[1]), int(argv[2])
    pg = argv[3] if len(argv) > 3 else None
    ours = Path(__file__).resolve().parent.parent
    got: dict[str, list[dict[str, float]]] = {"ours": [], "other": []}
    for n in range(rounds):
        order = [("ours", ours), ("other", other)]
        for name, checkout in order if n % 2 == 0 else order[::-1]:
            with tempfile.TemporaryDirectory() as scratch:
                url = (
                    asyncio.run(fresh_pg(pg, "probe"))
                    if pg
                    else f"sqlite+aiosqlite:///{scratch}/probe.db"
                )
                got[name].append(run_child("bench.sale_probe", checkout, url, sales))
        print(f"round {n + 1}: " + json.dumps(got), flush=True)
    for key in ("cpu_p50", "cpu_p99", "wall_p50"):
        print(f"{key} ms, ours: {spread([r[key] for r in got['ours']])}")
        print(f"{key} ms, other: {spread([r[key] for r in got['other']])}")
        ratios = [a[key] / b[key] for a, b in zip(got["ours"], got["other"], strict=True)]
        print(f"{key} ours / other per round: {spread(ratios)}")


def _main() -> Any:
    main(sys.argv[1:])


if __name__ == "__main__":
    _main()
