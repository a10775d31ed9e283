"""The load generator of the webhook-ingest benchmark (its own process, an aiohttp client).

``python -m bench.ingest_load JSON`` posts webhooks to ``url`` for ``seconds`` and prints one
JSON line of results. Every request carries a new update id / ``webhookEventId`` (nothing is a
duplicate) from member ``n % users`` typing ``/points``, or with ``mix`` the realistic mix of
:mod:`bench.mix_load`; LINE bodies are signed and carry a
reply token the fake LINE API accepts once.

- ``closed`` mode: ``concurrency`` requests in flight at all times (the throughput);
- ``open`` mode: requests due on a fixed schedule of ``rate`` a second whatever the answers,
  at most ``concurrency`` in flight as with the platforms (latency counted from the scheduled
  start, so a slow server cannot hide its queue); what is still waiting ``grace`` seconds after
  the end is cut and counted as ``unfinished`` with the time it had waited.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp

from bench import mix_load as mix
from bench.ingest_seed import line_user, telegram_user
from bench.ingest_servers import SECRET
from simulator.fakes.line_webhooks import postback_event, signed_webhook, text_event
from simulator.fakes.telegram_updates import callback_update, text_update

Request = tuple[bytes, dict[str, str]]


def telegram_request(n: int, spec: dict[str, Any]) -> Request:
    users, first_id = int(spec["users"]), int(spec["first_id"])
    body = json.dumps(text_update(first_id + n, telegram_user(n % users), "/points")).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return body, headers


def line_request(n: int, spec: dict[str, Any]) -> Request:
    users, first_id = int(spec["users"]), int(spec["first_id"])
    user = line_user(n % users)
    event = text_event(
        user,
        "/points",
        f"rt.{user}.{first_id + n}",
        datetime.now(UTC),
        event_id=f"{first_id + n:026d}",
    )
    body, signature = signed_webhook([event])
    return body, {"Content-Type": "application/json", "X-Line-Signature": signature}


def telegram_mix_request(n: int, spec: dict[str, Any]) -> Request:
    update_id = int(spec["first_id"]) + n
    one = mix.step(n, int(spec["users"]), int(spec["people"]), int(spec["signups_before"]))
    user = mix.telegram_id(one.sender)
    if one.kind == "button":
        update = callback_update(update_id, user, one.payload)
    else:
        update = text_update(update_id, user, one.payload)
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return json.dumps(update).encode(), headers


def line_mix_request(n: int, spec: dict[str, Any]) -> Request:
    one = mix.step(n, int(spec["users"]), int(spec["people"]), int(spec["signups_before"]))
    user, number, at = mix.line_id(one.sender), int(spec["first_id"]) + n, datetime.now(UTC)
    token, event_id = f"rt.{user}.{number}", f"{number:026d}"
    if one.kind == "button":
        event = postback_event(user, one.payload, token, at, event_id=event_id)
    else:
        event = text_event(user, one.payload, token, at, event_id=event_id)
    body, signature = signed_webhook([event])
    return body, {"Content-Type": "application/json", "X-Line-Signature": signature}


MAKERS: Final = {
    ("telegram", False): telegram_request,
    ("line", False): line_request,
    ("telegram", True): telegram_mix_request,
    ("line", True): line_mix_request,
}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


class _Load:
    """One run's requests and what came of them (latencies in seconds, errors, sent)."""

    def __init__(self, spec: dict[str, Any], session: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.make: Callable[[int, dict[str, Any]], Request] = MAKERS[
            spec["kind"], bool(spec.get("mix"))
        ]
        self.url: str = spec["url"]
        self.users, self.first_id = int(spec["users"]), int(spec["first_id"])
        self.concurrency = int(spec["concurrency"])
        self.session = session
        # like the platforms, never more than ``concurrency`` requests in flight: the rest wait
        # (their latency runs from the scheduled start, as an update waits at Telegram)
        self.slots = asyncio.Semaphore(self.concurrency)
        self.latencies: list[float] = []
        self.errors = 0
        self.counter = 0

    async def one(self, started: float) -> None:
        async with self.slots:
            body, headers = self.make(self.counter, self.spec)
            self.counter += 1
            try:
                async with self.session.post(self.url, data=body, headers=headers) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except aiohttp.ClientError:
                ok = False
        if ok:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.errors += 1

    async def closed(self, end: float) -> None:
        """``concurrency`` workers, each sending its next request as soon as one is answered."""

        async def worker() -> None:
            while time.perf_counter() < end:
                await self.one(time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def open(self, begin: float, end: float, rate: float, grace: float) -> int:
        """Requests due every ``1 / rate`` seconds; returns how many were cut unfinished."""
        interval = 1.0 / rate
        tasks: dict[asyncio.Task[None], float] = {}
        due = begin
        while due < end:
            now = time.perf_counter()
            while due <= now and due < end:
                task = asyncio.create_task(self.one(due))
                tasks[task] = due
                task.add_done_callback(tasks.pop)
                due += interval
            await asyncio.sleep(max(due - time.perf_counter(), 0.0005))
        if tasks:  # an overloaded server gets a grace period, then the backlog is cut
            await asyncio.wait(list(tasks), timeout=grace)
        cut_at = time.perf_counter()
        # what is left counts with the time it had waited so far: a lower bound
        waited = [cut_at - started for started in tasks.values()]
        for task in list(tasks):
            task.cancel()
        self.latencies += waited
        return len(waited)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Post the load ``spec`` describes and return its results (one JSON object)."""
    seconds = float(spec["seconds"])
    unfinished = 0
    connector = aiohttp.TCPConnector(limit=int(spec.get("connections", 100)))
    async with aiohttp.ClientSession(connector=connector) as session:
        load = _Load(spec, session)
        begin = time.perf_counter()
        end = begin + seconds
        if spec["mode"] == "closed":
            await load.closed(end)
        else:
            grace = float(spec.get("grace", seconds))
            unfinished = await load.open(begin, end, float(spec["rate"]), grace)
        elapsed = time.perf_counter() - begin
    latencies = load.latencies
    return {
        "ok": len(latencies) - unfinished,
        "errors": load.errors,
        "seconds": elapsed,
        "per_second": (len(latencies) - unfinished) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "sent": load.counter,
        "unfinished": unfinished,
    }


def main() -> None:
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))), flush=True)


if __name__ == "__main__":
    main()
