"""The fake LINE Messaging API for the LINE sending benches, served apart from the sender.

Two forms, the same fake (:class:`BenchLineApi`, ``keep_calls=False``) and the same questions:

- ``process`` (:func:`in_process`): a process of its own (``python -m bench.line_fake_apart``),
  as a real platform is another machine: its handling of requests takes neither the sender's
  GIL nor its share of the CPU (the machine's other core aside). What the bench reads —
  recipients accepted, quota refusals, multicasts per 1-s window, the fake's own CPU — comes
  from an inspection endpoint (``GET /_bench/state``), which the rate windows do not count.
- ``thread`` (:func:`in_thread`): a thread and event loop of its own in the sender's process
  (the ninth pass's form, as ``simulator.fakes.apart`` serves Telegram's): the sender's loop
  does not wait behind the fake, but both share the process's GIL.

:meth:`ServedLine.state` answers alike in both: ``cpu_s`` is the fake's own CPU (its process's,
or its thread's), ``last_multicast_at`` the ``time.perf_counter()`` of the last accepted
multicast (``CLOCK_MONOTONIC`` on Linux: the same clock in both processes).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from aiohttp import web

from simulator.fakes.line_api import MONTHLY_LIMIT_MESSAGE, Call, FakeLineApi

Form = Literal["process", "thread"]
FORMS: tuple[Form, ...] = ("process", "thread")
STATE = "/_bench/state"
QUOTA = "/_bench/quota"


@dataclass
class BenchLineApi(FakeLineApi):
    """The fake with what the bench counts: quota refusals and when the last multicast was
    accepted."""

    quota_429: int = 0
    last_multicast_at: float = 0.0

    def _error(
        self, call: Call, status: int, message: str, details: list[Any] | None = None
    ) -> web.Response:
        self.quota_429 += message == MONTHLY_LIMIT_MESSAGE
        return super()._error(call, status, message, details)

    async def _accepted(self, call: Call, key: str | None, body: Any) -> web.Response:
        if call.endpoint == "multicast":
            self.last_multicast_at = time.perf_counter()
        return await super()._accepted(call, key, body)

    def state(self, cpu_s: float) -> dict[str, Any]:
        multicasts = self.accepted.get("multicast")
        pushes = self.accepted.get("push")
        return {
            "recipients": self.recipients,
            "quota_used": self.quota_used,
            "multicast_requests": sum(multicasts.per_second.values()) if multicasts else 0,
            "busiest_second": multicasts.busiest_second if multicasts else 0,
            "rate_429": multicasts.refused if multicasts else 0,
            "push_requests": sum(pushes.per_second.values()) if pushes else 0,
            "quota_429": self.quota_429,
            "last_multicast_at": self.last_multicast_at,
            "cpu_s": cpu_s,
        }


class ServedLine:
    """A running fake as the bench sees it, whichever form serves it."""

    form: Form
    base_url: str
    access_token: str

    async def state(self) -> dict[str, Any]:
        raise NotImplementedError

    async def unlimit_quota(self) -> None:
        raise NotImplementedError


class InThread(ServedLine):
    form: Form = "thread"

    def __init__(self, fake: BenchLineApi, loop: asyncio.AbstractEventLoop) -> None:
        self.fake, self.loop = fake, loop
        self.base_url, self.access_token = fake.base_url, fake.access_token

    async def _there(self, work: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return work()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), self.loop))

    async def state(self) -> dict[str, Any]:
        return dict(await self._there(lambda: self.fake.state(time.thread_time())))

    async def unlimit_quota(self) -> None:
        def unlimit() -> None:
            self.fake.quota_limit = None

        await self._there(unlimit)


@asynccontextmanager
async def in_thread(fake: BenchLineApi) -> AsyncIterator[InThread]:
    """``fake`` served on a thread and event loop of its own in this process."""
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
        await asyncio.wrap_future(ready)
        yield InThread(fake, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        try:
            await asyncio.wrap_future(served)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()


class InProcess(ServedLine):
    form: Form = "process"

    def __init__(self, base_url: str, access_token: str, pid: int) -> None:
        self.base_url, self.access_token, self.pid = base_url, access_token, pid
        self.session = aiohttp.ClientSession()

    async def state(self) -> dict[str, Any]:
        async with self.session.get(self.base_url + STATE) as answer:
            return dict(await answer.json())

    async def unlimit_quota(self) -> None:
        async with self.session.post(self.base_url + QUOTA, json={"limit": None}) as answer:
            answer.raise_for_status()


@asynccontextmanager
async def in_process(quota_limit: int | None) -> AsyncIterator[InProcess]:
    """The fake served by a child process (``python -m bench.line_fake_apart``), until its
    standard input closes."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.line_fake_apart",
        "--quota",
        "none" if quota_limit is None else str(quota_limit),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    served: InProcess | None = None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        if not line.startswith(b"READY "):
            raise RuntimeError(f"the fake's process did not start: {line!r}")
        ready = json.loads(line[6:])
        served = InProcess(ready["base_url"], ready["access_token"], child.pid)
        yield served
    finally:
        if served is not None:
            await served.session.close()
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


@asynccontextmanager
async def serve_line(form: Form, quota_limit: int | None) -> AsyncIterator[ServedLine]:
    if form == "process":
        async with in_process(quota_limit) as process:
            yield process
    else:
        async with in_thread(BenchLineApi(quota_limit=quota_limit, keep_calls=False)) as thread:
            yield thread


async def _serve(quota_limit: int | None) -> None:
    """The child: the fake and its inspection endpoint, until standard input closes."""
    fake = BenchLineApi(quota_limit=quota_limit, keep_calls=False)

    async def state(request: web.Request) -> web.Response:
        return web.json_response(fake.state(time.process_time()))

    async def quota(request: web.Request) -> web.Response:
        fake.quota_limit = (await request.json())["limit"]
        return web.json_response({})

    app = fake.app
    app.router.add_get(STATE, state)
    app.router.add_post(QUOTA, quota)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ready = {"base_url": f"http://127.0.0.1:{port}", "access_token": fake.access_token}
    print("READY " + json.dumps(ready), flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.buffer.read)  # returns at EOF
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="the fake LINE API in a process of its own")
    parser.add_argument("--quota", default="none", help="monthly quota (recipients) or none")
    args = parser.parse_args()
    asyncio.run(_serve(None if args.quota == "none" else int(args.quota)))


if __name__ == "__main__":
    main()
