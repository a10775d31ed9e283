"""A fake platform served on a thread and event loop of its own, as the real one is elsewhere.

Served in the test's own loop (:func:`simulator.fakes.telegram_api.serving`), the fake reads a
request only when that loop gets to it: a stall of the code under test (a busy machine, two
apps in one loop) delays the fake's reading of requests that had long reached its socket, and
it then counts them together — a bunching no network adds, and a 429 the real platform would
not answer. Here the fake's loop reads them as they come, so its rate windows and its
``Call.at`` see arrivals. Hooks (``before_send``, ``after_send``) run in the fake's loop: a
test that coordinates with them through its own loop's objects uses ``serving``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp.test_utils import TestServer

from simulator.fakes.telegram_api import FakeTelegramAPI

T = TypeVar("T")


@asynccontextmanager
async def serving_apart(
    fake: FakeTelegramAPI | None = None,
) -> AsyncIterator[tuple[FakeTelegramAPI, str]]:
    """Run ``fake`` on a free port of 127.0.0.1 in a thread of its own; yields (fake, base
    URL for TELEGRAM_API_BASE)."""
    fake = fake or FakeTelegramAPI()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-platform", daemon=True)
    thread.start()

    async def there(work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    server = TestServer(fake.app(), host="127.0.0.1")
    try:
        await there(server.start_server())
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        try:
            await there(server.close())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()
