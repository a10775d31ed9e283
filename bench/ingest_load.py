"""The load generator of the webhook-ingest benchmark (its own process, an aiohttp client).

``python -m bench.ingest_load JSON`` posts webhooks to ``url`` for ``seconds`` and prints one
JSON line of results. Every request carries a new update id / ``webhookEventId`` (nothing is a
duplicate) from member ``n % users`` typing ``/points``; LINE bodies are signed and carry a
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
from typing import Any

import aiohttp

from bench.ingest_seed import line_user, telegram_user
from bench.ingest_servers import SECRET
from simulator.fakes.line_webhooks import signed_webhook, text_event
from simulator.fakes.telegram_updates import text_update

Request = tuple[bytes, dict[str, str]]


def telegram_request(n: int, users: int, first_id: int) -> Request:
    body = json.dumps(text_update(first_id + n, telegram_user(n % users), "/points")).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return body, headers


def line_request(n: int, users: int, first_id: int) -> Request:
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


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    make: Callable[[int, int, int], Request] = (
        telegram_request if spec["kind"] == "telegram" else line_request
    )
    users, first_id, seconds = int(spec["users"]), int(spec["first_id"]), float(spec["seconds"])
    latencies: list[float] = []
    errors = unfinished = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=int(spec.get("connections", 100)))
    # like the platforms, never more than ``concurrency`` requests in flight: the rest wait
    # (their latency runs from the scheduled start, as an update waits at Telegram)
    slots = asyncio.Semaphore(int(spec["concurrency"]))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(started: float) -> None:
            nonlocal counter, errors
            async with slots:
                body, headers = make(counter, users, first_id)
                counter += 1
                try:
                    async with session.post(spec["url"], data=body, headers=headers) as answer:
                        await answer.read()
                        ok = answer.status == 200
                except aiohttp.ClientError:
                    ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

        begin = time.perf_counter()
        end = begin + seconds
        if spec["mode"] == "closed":

            async def worker() -> None:
                while time.perf_counter() < end:
                    await one(time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(int(spec["concurrency"]))))
        else:
            interval = 1.0 / float(spec["rate"])
            tasks: dict[asyncio.Task[None], float] = {}
            due = begin
            while due < end:
                now = time.perf_counter()
                while due <= now and due < end:
                    task = asyncio.create_task(one(due))
                    tasks[task] = due
                    task.add_done_callback(tasks.pop)
                    due += interval
                await asyncio.sleep(max(due - time.perf_counter(), 0.0005))
            if tasks:  # an overloaded server gets a grace period, then the backlog is cut
                await asyncio.wait(list(tasks), timeout=float(spec.get("grace", seconds)))
            cut_at = time.perf_counter()
            # what is left counts with the time it had waited so far: a lower bound
            waited = [cut_at - started for started in tasks.values()]
            for task in list(tasks):
                task.cancel()
            unfinished = len(waited)
            latencies += waited
        elapsed = time.perf_counter() - begin
    return {
        "ok": len(latencies) - unfinished,
        "errors": errors,
        "seconds": elapsed,
        "per_second": (len(latencies) - unfinished) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "sent": counter,
        "unfinished": unfinished,
    }


def main() -> None:
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))), flush=True)


if __name__ == "__main__":
    main()
