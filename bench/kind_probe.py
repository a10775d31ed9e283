"""Each kind of the mix's Telegram updates alone, this checkout against another's, in paired
rounds, with the trips each one makes to PostgreSQL counted.

``python -m bench.kind_probe OTHER_CHECKOUT ROUNDS EVENTS POSTGRESQL_URL``: in each round,
``ours`` (this checkout) and ``other`` (this module run with OTHER_CHECKOUT as its working
directory, so its packages, migrations included, are imported from there; the file and
``bench/probe_support.py`` must be there too) each run in a process of their own on a fresh
scratch database ``<database>_kind`` (made and dropped here): one branch, an owner on Telegram,
200 members (as :mod:`bench.mix` seeds them), then for each kind of :mod:`bench.mix_load` —
``/points``, ``/card``, the ``cmd:points`` button, a question to the inbox, a sign-up step (new
people walking the whole flow), a staff ``/sale`` — 20 unmeasured events and EVENTS measured
ones through ``app.bus.handle``, one at a time. Per kind: the p50 of each event's CPU (the
process's own), and per event the statements asyncpg ran (``fetch``/``execute`` of a prepared
statement or of text) and the statements prepared (a round trip of its own: SQLAlchemy's
adapter's cache or asyncpg's missed). The order alternates from round to round; ratios are taken
within rounds.

Made to find which kind of update (and whether a trip) costs PostgreSQL Telegram's mix more;
no HTTP and no reply sent, so what the webhook and the sending cost is not in it.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final

from bench.probe_support import fresh_pg, run_child, spread

MEMBERS: Final = 200
WARM: Final = 20
KINDS: Final = ("points", "card", "button", "text", "signup", "sale")
QUESTION: Final = "Are you open on Sunday?"
OWNER: Final = "999"
STEPS: Final = (
    ("text", "/start"),
    ("button", "su:join"),
    ("button", "su:mkt:yes"),
    ("text", "Somchai"),
    ("text", "{phone}"),
    ("text", "1990-05-01"),
    ("button", "su:g:female"),
    ("button", "su:b:{branch}"),
)


def _count_trips(counts: Counter[str]) -> None:
    """Count asyncpg's statements run and prepared (patched on its classes, in this process)."""
    from asyncpg.connection import Connection  # type: ignore[import-untyped]
    from asyncpg.prepared_stmt import PreparedStatement  # type: ignore[import-untyped]

    def wrap(cls: Any, name: str, key: str) -> None:
        original = getattr(cls, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return await original(*args, **kwargs)

        setattr(cls, name, counted)

    wrap(Connection, "prepare", "prepare")
    wrap(Connection, "fetch", "run")
    wrap(Connection, "execute", "run")
    wrap(Connection, "executemany", "run")
    wrap(PreparedStatement, "fetch", "run")
    original = Connection._get_statement

    async def statement(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        # asyncpg's cache key; prepare() asks without the cache and is counted above
        record = kwargs.get("record_class") or self._protocol.get_record_class()
        key = (query, record, kwargs.get("ignore_custom_codec", False))
        if kwargs.get("use_cache", True) and self._stmt_cache.get(key) is None:
            counts["prepare"] += 1
        return await original(self, query, *args, **kwargs)

    Connection._get_statement = statement


class _Kinds:
    """Sends the mix's kinds of update as :mod:`bench.mix_load` makes them, through the bus."""

    def __init__(self, app: Any, branch_id: int) -> None:
        from bench.ingest_seed import telegram_user
        from tests.chat import Chat

        self.app, self.branch_id, self.chat = app, branch_id, Chat
        self.members = [Chat(app, user_id=str(telegram_user(n))) for n in range(MEMBERS)]
        self.owner = Chat(app, user_id=OWNER)
        self.people = 0
        self.walks: list[tuple[Any, str, str]] = []

    async def signup_step(self) -> None:
        """The next step of the person signing up; a new person once one has finished."""
        if not self.walks:
            self.people += 1
            chat = self.chat(self.app, user_id=f"-{self.people + 1}")
            phone = f"089{self.people:07d}"
            self.walks = [
                (chat, kind, payload.format(phone=phone, branch=self.branch_id))
                for kind, payload in reversed(STEPS)
            ]
        chat, kind, payload = self.walks.pop()
        await (chat.say(payload) if kind == "text" else chat.press(payload))

    async def one(self, kind: str, n: int) -> None:
        member = self.members[n % MEMBERS]
        if kind == "points":
            await member.say("/points")
        elif kind == "card":
            await member.say("/card")
        elif kind == "button":
            await member.press("cmd:points")
        elif kind == "text":
            await member.say(f"{QUESTION} {n}")
        elif kind == "signup":
            await self.signup_step()
        else:
            await self.owner.say(f"/sale +6681{n % MEMBERS:07d} {100 + n % 400}")


async def _shop(url: str) -> tuple[Any, int]:
    """The app on ``url`` (migrated) with the mix's members, one branch and an owner."""
    from bench.ingest_seed import seed_members
    from bot.bootstrap import bootstrap
    from bot.config import Settings

    app = await bootstrap(Settings(CHATCRM_DATABASE_URL=url, _env_file=None))
    await seed_members(app, MEMBERS)
    async with app.uow() as uow:
        branch = await uow.branches.add("main", "สาขาหลัก", "Main")
        await uow.staff.add("telegram", OWNER, "Owner", "owner", None, app.clock.now())
        await uow.commit()
    assert branch is not None
    return app, branch.id


async def _child(url: str, events: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    _count_trips(counts)
    app, branch_id = await _shop(url)
    kinds = _Kinds(app, branch_id)
    profile = os.environ.get("KIND_PROBE_PROFILE", "").split(":")  # KIND:FILE, cProfile's stats
    got: dict[str, Any] = {}
    for kind in KINDS:
        cpu: list[float] = []
        for n in range(WARM):
            await kinds.one(kind, n)
        before = Counter(counts)
        profiler = cProfile.Profile() if profile[0] == kind else None
        if profiler is not None:
            profiler.enable()
        for n in range(WARM, WARM + events):
            c0 = time.process_time()
            await kinds.one(kind, n)
            cpu.append((time.process_time() - c0) * 1000)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile[1])
        got[kind] = {
            "cpu_p50": statistics.median(cpu),
            "runs": (counts["run"] - before["run"]) / events,
            "prepares": (counts["prepare"] - before["prepare"]) / events,
        }
    await app.close()
    return got


def main(argv: list[str]) -> None:
    if argv[0] == "--child":
        print(json.dumps(asyncio.run(_child(argv[1], int(argv[2])))))
        return
    other, rounds, events, pg = Path(argv[0]).resolve(), int(argv[1]), int(argv[2]), argv[3]
    ours = Path(__file__).resolve().parent.parent
    got: dict[str, list[dict[str, Any]]] = {"ours": [], "other": []}
    for n in range(rounds):
        order = [("ours", ours), ("other", other)]
        for name, checkout in order if n % 2 == 0 else order[::-1]:
            got[name].append(
                run_child("bench.kind_probe", checkout, asyncio.run(fresh_pg(pg, "kind")), events)
            )
        print(f"round {n + 1}: " + json.dumps(got), flush=True)
    for kind in KINDS:
        ours_cpu = [r[kind]["cpu_p50"] for r in got["ours"]]
        other_cpu = [r[kind]["cpu_p50"] for r in got["other"]]
        ratios = [a / b for a, b in zip(ours_cpu, other_cpu, strict=True)]
        trips = {
            name: (got[name][-1][kind]["runs"], got[name][-1][kind]["prepares"]) for name in got
        }
        print(
            f"{kind:7} CPU p50 ms ours {spread(ours_cpu)}  other {spread(other_cpu)}  "
            f"ours/other {spread(ratios)}  statements run, prepared per event {trips}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
