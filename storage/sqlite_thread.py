"""The database thread of SQLite's one-trip connection (``storage/sqlite_driver.py``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiosqlite.core import _STOP_RUNNING_SENTINEL


def _answer(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def work(tx: Any) -> None:
    """The database thread: aiosqlite's queue protocol, except that an answer for a loop that
    has closed meanwhile is dropped (nobody can await it) instead of raising in this thread."""
    while True:
        future, function = tx.get()
        result: Any = None
        error: BaseException | None = None
        try:
            result = function()
        except BaseException as raised:  # handed to the caller, as aiosqlite does
            error = raised
        if future is not None:
            # the loop may have closed while this ran (a loop torn down mid-statement)
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_answer, future, result, error)
        if result is _STOP_RUNNING_SENTINEL:
            break
