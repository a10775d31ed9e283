"""LINE fan-out: one identical promotion to N members through the real dispatcher and adapter
to the fake Messaging API (per-endpoint rates, ``to`` <= 500, monthly quota).

``python -m bench.line_fanout [--quick] [--members N]``. A scratch SQLite shop gets N members
with a LINE account each (50,000; quick 5,000); a campaign with the same text for everyone is
launched, the fake's monthly quota is set to exactly N (what the campaign preview reads:
``quota`` and ``quota/consumption`` through ``LineChannel.quota``), and the dispatcher with
``PlatformLimits`` sends it.

Targets: recipients per multicast request ÷ 500 >= 0.98; quota 429s = 0 given the preview's
check (recipients <= limit - used) said the quota suffices; multicast requests in the
busiest 1-s window ÷ 200 <= 1.0 (requests/s over the run is reported too); and the
dispatcher's multicasts/s ÷ the fake's ceiling with a bare client >= 0.5.

Both sides of that ratio are timed alike: from the start of the sender (the dispatcher's loop;
the bare client's first request) to its end (the dispatcher's last outcome committed, seen
within 5 ms by counting the outcomes it records; the bare client's last answer read), each
starting with an empty rate window at the fake. The dispatcher's end is the stricter: it
includes writing its outcomes. The fake runs on a thread and event loop of its own in the same
process (as the Telegram benches serve theirs): both senders share the process with it, but
neither's event loop waits behind its handling of requests, as with a platform elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import math
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench.report import Target, publish
from bench.sending_support import add_members, drain, launch_campaign, scratch_app, statuses
from bot import metrics
from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.messages import Channel
from jobs.ratelimit import PlatformLimits
from simulator.fakes.line_api import MONTHLY_LIMIT_MESSAGE, FakeLineApi
from simulator.fakes.line_webhooks import line_settings

#: the outcomes after which a row is done (counted by the dispatcher once committed)
FINAL = frozenset({"sent", "failed", "unreachable", "withdrawn"})
MESSAGE = "Weekday afternoons: 1-get-1 milk tea, Mon-Fri 14-16"
MULTICAST_RATE = 200


async def bare_ceiling(fake: FakeLineApi, requests: int, in_flight: int = 20) -> float:
    """Multicasts of 500 the fake accepts a second from a bare aiohttp client (no database, no
    dispatcher) with ``in_flight`` requests outstanding: the most any sender could get from it
    on this machine. 429s (the fake's 200/s limit) are not counted as accepted."""
    fake.quota_limit = None
    body = {
        "to": [f"U{n:032x}" for n in range(500)],
        "messages": [{"type": "text", "text": MESSAGE}],
    }
    headers = {"Authorization": f"Bearer {fake.access_token}"}
    url = f"{fake.base_url}/v2/bot/message/multicast"
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


async def ceilings(fake: FakeLineApi, recipients: int) -> tuple[float, float]:
    """The bare client's multicasts/s right after the campaign (as measured before: the
    campaign's last second of requests, still in the fake's window, cuts its first burst — the
    faster the campaign, the more) and from an empty window, as the dispatcher started (the
    ceiling)."""
    # 3 s at the fake's 200/s at least: its sliding window admits a first burst of 200
    requests = max(3 * MULTICAST_RATE, recipients // 500)
    right_after = await bare_ceiling(fake, requests)
    await asyncio.sleep(fake.rates["multicast"].seconds)
    return right_after, await bare_ceiling(fake, requests)


@asynccontextmanager
async def running_apart(fake: FakeLineApi) -> AsyncIterator[str]:
    """``fake`` served on a thread and event loop of its own (as ``simulator.fakes.apart`` serves
    Telegram's), so that its handling of requests does not wait in the event loop of the sender
    it measures, nor the sender's turns behind it; yields its base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-line-api", daemon=True)
    thread.start()
    ready: concurrent.futures.Future[str] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with fake.running() as base:
            ready.set_result(base)
            await stop.wait()

    def failed(served: concurrent.futures.Future[None]) -> None:
        if not ready.done():
            ready.set_exception(served.exception() or RuntimeError("the fake did not start"))

    served = asyncio.run_coroutine_threadsafe(serve(), loop)
    served.add_done_callback(failed)
    try:
        yield await asyncio.wrap_future(ready)
    finally:
        loop.call_soon_threadsafe(stop.set)
        try:
            await asyncio.wrap_future(served)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()


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


async def timed_drain(
    app: App, fake: FakeLineApi, channel: LineChannel, queued: int
) -> tuple[float, float, float]:
    """The dispatcher sending ``queued`` rows: seconds to its last outcome committed and to the
    fake's acceptance of the last recipient, and the process's CPU seconds meanwhile."""
    accepted_at: list[float] = []

    def delivered() -> bool:
        """Every queued row's outcome is committed; also keeps when the fake had accepted
        every recipient. Read in memory: no query competes with the sending."""
        if not accepted_at and fake.recipients >= queued:
            accepted_at.append(time.perf_counter())
        return recorded() >= queued

    with committed_outcomes() as recorded:
        cpu = time.process_time()  # this process's own: stable when the machine is not
        started = time.perf_counter()
        seconds = await drain(
            app,
            {Channel.LINE: channel},
            PlatformLimits.from_settings(channel.settings),
            within=queued / 500 / MULTICAST_RATE * 5 + 60,
            delivered=delivered,
        )
        cpu = time.process_time() - cpu
    return seconds, (accepted_at[0] - started if accepted_at else seconds), cpu


async def fanout(folder: Path, recipients: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{folder / 'line.db'}"
    fake = FakeLineApi(quota_limit=recipients, keep_calls=False)
    quota_refusals = 0

    async with running_apart(fake), scratch_app(url) as app:
        await add_members(app.engine, recipients, "line")
        launched = await launch_campaign(app, MESSAGE)
        settings = line_settings(app.settings, fake)
        channel = LineChannel(settings, app.bus, app.uow, app.clock)
        try:
            limit, used = await channel.quota()  # what the campaign preview shows the owner
            preview_ok = limit is None or launched.queued <= limit - used
            original = fake._error

            def counting(call: Any, status: int, message: str, details: Any = None) -> Any:
                nonlocal quota_refusals
                quota_refusals += message == MONTHLY_LIMIT_MESSAGE
                return original(call, status, message, details)

            fake._error = counting  # type: ignore[method-assign]
            seconds, accepted_s, cpu = await timed_drain(app, fake, channel, launched.queued)
        finally:
            await channel.close()
        outcome = await statuses(app)
        multicasts = fake.accepted.get("multicast")
        requests = sum(multicasts.per_second.values()) if multicasts else 0
        busiest, refused = (multicasts.busiest_second, multicasts.refused) if multicasts else (0, 0)
        sent_to, quota_used = fake.recipients, fake.quota_used
        ceiling_after, ceiling = await ceilings(fake, recipients)
    return {
        "recipients": recipients,
        "queued": launched.queued,
        "launch_s": round(launched.seconds, 3),
        # from the dispatcher's start to its last outcome committed, seen within FINE: timed as
        # the bare client is, from its first request to its last answer, and then some
        "drain_s": round(seconds, 3),
        # to the fake's acceptance of the last recipient (within FINE)
        "drain_s_accepted": round(accepted_s, 3),
        # what a probe of the outbox every 0.5 s (the bench before) would have shown at best
        "drain_s_half_second_check": math.ceil(seconds / 0.5) * 0.5,
        # the whole process (the dispatcher, its database thread and the fake), per recipient
        "drain_cpu_us_per_recipient": round(cpu / max(recipients, 1) * 1e6, 1),
        "preview_quota_ok": preview_ok,
        "multicast_requests": requests,
        "multicast_recipients": sent_to,
        "push_requests": sum(fake.accepted["push"].per_second.values())
        if "push" in fake.accepted
        else 0,
        "requests_per_s": requests / seconds if seconds else 0.0,
        "busiest_second": busiest,
        "rate_429": refused,
        "quota_429": quota_refusals,
        "quota_used": quota_used,
        "bare_client_requests_per_s": ceiling,
        "bare_client_requests_per_s_right_after": ceiling_after,
        "statuses": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI)")
    parser.add_argument("--members", type=int, help="another audience size (default 50,000)")
    args = parser.parse_args()
    recipients = args.members or (5_000 if args.quick else 50_000)
    with tempfile.TemporaryDirectory(prefix="chatcrm-line-") as folder:
        run = asyncio.run(fanout(Path(folder), recipients))
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
            "sending: multicasts/s of the dispatcher ÷ the fake's ceiling with a bare client",
            run["requests_per_s"],
            run["bare_client_requests_per_s"],
            "requests/s",
            0.5,
            note="bare client: aiohttp, 20 multicasts of 500 in flight, same process as the fake"
            " (its own thread and event loop);"
            f" ours from the dispatcher's start to its last outcome, {run['drain_s']} s",
        ),
    ]
    publish("line_fanout", targets, quick=args.quick, extra=run)


if __name__ == "__main__":
    main()
