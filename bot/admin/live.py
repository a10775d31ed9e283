"""Work for a request whose client may leave before it is done: the live counts.

A live count is asked at every pause in typing, and the page's script aborts the one in
flight when a newer keystroke comes (its connection closes). aiohttp does not cancel a handler
whose client went away (``handler_cancellation`` is off, rightly, for webhooks), so a count at
1M members would go on for nobody and hold a database connection meanwhile. Here the count
runs as a task that is cancelled once the request's connection is gone; cancelling it
cancels the statement (asyncpg sends PostgreSQL a cancel request; on SQLite the statement is
interrupted, :mod:`storage.sqlite_driver`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from functools import wraps
from typing import Any, Final

from aiohttp import web

#: how often a running count looks whether its client is still there, seconds
POLL: Final = 0.1
#: the answer to a client that left (nobody reads it)
GONE: Final = 499

Handler = Callable[[web.Request], Coroutine[Any, Any, web.Response]]


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


Work = Coroutine[Any, Any, web.Response]


async def unless_gone(request: web.Request, work: Work) -> web.Response:
    """``work``'s answer, or (once the client has closed its connection) ``work`` cancelled."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL)
            if done:
                return task.result()
            if client_gone(request):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
                return web.Response(status=GONE)
    finally:
        task.cancel()  # the handler itself cancelled (shutdown): the work goes with it


def cancelled_when_gone(handler: Handler) -> Handler:
    """``handler`` run by :func:`unless_gone`."""

    @wraps(handler)
    async def run(request: web.Request) -> web.Response:
        return await unless_gone(request, handler(request))

    return run
