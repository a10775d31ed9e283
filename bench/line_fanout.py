"""LINE fan-out: one identical promotion to N members through the real dispatcher and adapter
to the fake Messaging API (per-endpoint rates, ``to`` <= 500, monthly quota).

``python -m bench.line_fanout [--quick] [--members N] [--fake process|thread]``. A scratch
SQLite shop gets N members with a LINE account each (50,000; quick 5,000); a campaign with the
same text for everyone is launched, the fake's monthly quota is set to exactly N (what the
campaign preview reads: ``quota`` and ``quota/consumption`` through ``LineChannel.quota``), and
the dispatcher with ``PlatformLimits`` sends it.

Targets: recipients per multicast request ÷ 500 >= 0.98; quota 429s = 0 given the preview's
check (recipients <= limit - used) said the quota suffices; multicast requests in the
busiest 1-s window ÷ 200 <= 1.0 (requests/s over the run is reported too); and the
dispatcher's multicasts/s ÷ the fake's ceiling with a bare client >= 0.5.

Both sides of that ratio are timed alike: from the start of the sender (the dispatcher's loop;
the bare client's first request) to its end (the dispatcher's last outcome committed, seen
within 5 ms by counting the outcomes it records; the bare client's last answer read), each
starting with an empty rate window at the fake. The dispatcher's end is the stricter: it
includes writing its outcomes.

Where the fake runs (``--fake``, :mod:`bench.line_fake_apart`), alike for both sides: in a
process of its own (``process``, the default: a real platform is another machine, and its
handling of requests takes neither the sender's GIL nor its CPU), or on a thread and event loop
of its own in the sender's process (``thread``, the form before: it shares the GIL). The output
says which, the sender's CPU per recipient (its process's own accounting) and the fake's, and
how much of a core the fake used while the ceiling was measured, with its 429s to the bare
client then (many: the ceiling is the fake's 200/s window, not its CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.line_fake_apart import FORMS, Form, ServedLine, serve_line
from bench.report import Target, publish
from bench.sending_support import add_members, drain, launch_campaign, scratch_app, statuses
from bot import metrics
from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.messages import Channel
from jobs.ratelimit import PlatformLimits
from simulator.fakes.line_webhooks import line_settings

#: the outcomes after which a row is done (counted by the dispatcher once committed)
FINAL = frozenset({"sent", "failed", "unreachable", "withdrawn"})
MESSAGE = "Weekday afternoons: 1-get-1 milk tea, Mon-Fri 14-16"
MULTICAST_RATE = 200


async def bare_ceiling(served: ServedLine, requests: int, in_flight: int = 20) -> float:
    """Multicasts of 500 the fake accepts a second from a bare aiohttp client (no database, no
    dispatcher) with ``in_flight`` requests outstanding: the most any sender could get from it
    on this machine. 429s (the fake's 200/s limit) are not counted as accepted."""
    await served.unlimit_quota()
    body = {
        "to": [f"U{n:032x}" for n in range(500)],
        "messages": [{"type": "text", "text": MESSAGE}],
    }
    headers = {"Authorization": f"Bearer {served.access_token}"}
    url = f"{served.base_url}/v2/bot/message/multicast"
    accepted = 0
    left = requests

    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal accepted, left
            while left > 0:
                left -= 1
                async with session.post(url, json=body, headers=headers) as answer:
                    await answer.read()
                    accepted += answer.status == 200
                    left += answer.status == 429  # refused: that request is still owed

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return accepted / (time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Ceiling:
    right_after: float
    #: from an empty rate window: the ceiling
    per_s: float
    #: the ceiling's run: its seconds, the sender's (this process's) CPU and the fake's
    seconds: float
    cpu_s: float
    fake_cpu_s: float
    #: the fake's 429s to the bare client in that run (its 200/s window full: the client outran
    #: the rate, which is then the ceiling, not the fake's CPU)
    refused: int


async def ceilings(served: ServedLine, recipients: int) -> Ceiling:
    """The bare client's multicasts/s right after the campaign (as measured before: the
    campaign's last second of requests, still in the fake's window, cuts its first burst — the
    faster the campaign, the more) and from an empty window, as the dispatcher started (the
    ceiling), with the CPU both sides took during the ceiling's run."""
    # 3 s at the fake's 200/s at least: its sliding window admits a first burst of 200
    requests = max(3 * MULTICAST_RATE, recipients // 500)
    right_after = await bare_ceiling(served, requests)
    await asyncio.sleep(1.0)  # the fake's multicast window
    before = await served.state()
    cpu, started = time.process_time(), time.perf_counter()
    ceiling = await bare_ceiling(served, requests)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = await served.state()
    fake_cpu, refused = after["cpu_s"] - before["cpu_s"], after["rate_429"] - before["rate_429"]
    return Ceiling(right_after, ceiling, seconds, cpu, fake_cpu, refused)


@contextmanager
def committed_outcomes() -> Iterator[Callable[[], int]]:
    """How many rows' final outcomes the dispatcher has committed: it counts each in the
    metrics after its commit, and this counts what it counts, meanwhile."""
    recorded = 0
    count_sends = metrics.count_sends

    def counting(channel: str, path: str, result: str, count: int = 1) -> None:
        nonlocal recorded
        recorded += count if path == "outbox" and result in FINAL else 0
        count_sends(channel, path, result, count)

    metrics.count_sends = counting
    try:
        yield lambda: recorded
    finally:
        metrics.count_sends = count_sends


@dataclass(frozen=True, slots=True)
class Drained:
    #: to the last outcome committed; to the fake's acceptance of the last multicast
    seconds: float
    accepted_s: float
    #: this process's CPU (in the ``thread`` form the fake's thread's included) and the fake's
    cpu_s: float
    fake_cpu_s: float


async def timed_drain(
    app: App, served: ServedLine, channel: LineChannel, queued: int
) -> tuple[Drained, dict[str, Any]]:
    """The dispatcher sending ``queued`` rows, and the fake's state after it."""
    with committed_outcomes() as recorded:
        fake_cpu = (await served.state())["cpu_s"]
        cpu = time.process_time()  # this process's own: stable when the machine is not
        started = time.perf_counter()
        seconds = await drain(
            app,
            {Channel.LINE: channel},
            PlatformLimits.from_settings(channel.settings),
            within=queued / 500 / MULTICAST_RATE * 5 + 60,
            # every queued row's outcome committed, read in memory: no query competes
            delivered=lambda: recorded() >= queued,
        )
        cpu = time.process_time() - cpu
    state = await served.state()
    accepted_s = state["last_multicast_at"] - started if state["last_multicast_at"] else seconds
    return Drained(seconds, accepted_s, cpu, state["cpu_s"] - fake_cpu), state


async def fanout(folder: Path, recipients: int, form: Form) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{folder / 'line.db'}"
    async with serve_line(form, recipients) as served, scratch_app(url) as app:
        await add_members(app.engine, recipients, "line")
        launched = await launch_campaign(app, MESSAGE)
        settings = line_settings(app.settings, served)
        channel = LineChannel(settings, app.bus, app.uow, app.clock)
        try:
            limit, used = await channel.quota()  # what the campaign preview shows the owner
            preview_ok = limit is None or launched.queued <= limit - used
            drained, fake = await timed_drain(app, served, channel, launched.queued)
        finally:
            await channel.close()
        outcome = await statuses(app)
        ceiling = await ceilings(served, recipients)
    seconds, per_recipient = drained.seconds, 1e6 / max(recipients, 1)
    return {
        "fake": form,
        "recipients": recipients,
        "queued": launched.queued,
        "launch_s": round(launched.seconds, 3),
        # from the dispatcher's start to its last outcome committed, seen within FINE: timed as
        # the bare client is, from its first request to its last answer, and then some
        "drain_s": round(seconds, 3),
        # to the fake's acceptance of the last multicast
        "drain_s_accepted": round(drained.accepted_s, 3),
        # what a probe of the outbox every 0.5 s (the bench before) would have shown at best
        "drain_s_half_second_check": math.ceil(seconds / 0.5) * 0.5,
        # the sender's process (the dispatcher, its database thread; in the thread form the
        # fake's thread too), per recipient; the fake's own (its thread or its process)
        "drain_cpu_us_per_recipient": round(drained.cpu_s * per_recipient, 1),
        "fake_cpu_us_per_recipient": round(drained.fake_cpu_s * per_recipient, 1),
        "preview_quota_ok": preview_ok,
        "multicast_requests": fake["multicast_requests"],
        "multicast_recipients": fake["recipients"],
        "push_requests": fake["push_requests"],
        "requests_per_s": fake["multicast_requests"] / seconds if seconds else 0.0,
        "busiest_second": fake["busiest_second"],
        "rate_429": fake["rate_429"],
        "quota_429": fake["quota_429"],
        "quota_used": fake["quota_used"],
        "bare_client_requests_per_s": ceiling.per_s,
        "bare_client_requests_per_s_right_after": ceiling.right_after,
        # the ceiling's run: the fake's CPU ÷ its seconds (1.0: a core busy), the client's
        "ceiling_fake_cores": round(ceiling.fake_cpu_s / ceiling.seconds, 3),
        "ceiling_client_cores": round(ceiling.cpu_s / ceiling.seconds, 3),
        "ceiling_429": ceiling.refused,
        "statuses": outcome,
    }


WHERE = {
    "process": "the fake in a process of its own (as a platform elsewhere)",
    "thread": "the fake on its own thread and event loop in the sender's process (shared GIL)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI)")
    parser.add_argument("--members", type=int, help="another audience size (default 50,000)")
    parser.add_argument(
        "--fake", choices=FORMS, default="process", help="where the fake runs (default process)"
    )
    args = parser.parse_args()
    recipients = args.members or (5_000 if args.quick else 50_000)
    with tempfile.TemporaryDirectory(prefix="chatcrm-line-") as folder:
        run = asyncio.run(fanout(Path(folder), recipients, args.fake))
    per_request = run["multicast_recipients"] / max(run["multicast_requests"], 1)
    note = f"{run['multicast_requests']} multicasts, {run['push_requests']} pushes"
    targets = [
        Target("recipients per multicast ÷ 500", per_request, 500, "recipients", 0.98, note=note),
        Target(
            "quota 429s (preview said the quota suffices)"
            if run["preview_quota_ok"]
            else "quota 429s (preview warned: quota short)",
            run["quota_429"],
            1,
            "429s",
            0,
            "<=",
        ),
        Target(
            "busiest second of multicasts ÷ 200/s",
            run["busiest_second"],
            MULTICAST_RATE,
            "requests",
            1.0,
            "<=",
            note=f"{run['requests_per_s']:.1f} requests/s over {run['drain_s']} s of sending",
        ),
        Target(
            f"sending ({args.fake}: {WHERE[args.fake]}): multicasts/s of the dispatcher ÷ the"
            " fake's ceiling with a bare client",
            run["requests_per_s"],
            run["bare_client_requests_per_s"],
            "requests/s",
            0.5,
            note="bare client: aiohttp, 20 multicasts of 500 in flight, the fake served alike;"
            f" ours from the dispatcher's start to its last outcome, {run['drain_s']} s;"
            f" CPU per recipient {run['drain_cpu_us_per_recipient']} µs (sender's process),"
            f" {run['fake_cpu_us_per_recipient']} µs (the fake's);"
            f" the fake used {run['ceiling_fake_cores']} of a core at the ceiling",
        ),
    ]
    publish("line_fanout", targets, quick=args.quick, extra=run)


if __name__ == "__main__":
    main()
