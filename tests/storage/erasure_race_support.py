"""A staff write about a member held, on PostgreSQL, right where it writes until the member's
own erasure has committed: the order in which a note or a tag could outlive the erasure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from storage.repositories.people import People
from tests.storage.join_edges_support import until

T = TypeVar("T")


async def write_across_erasure(
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    write: Callable[[], Awaitable[T]],
    erase: Callable[[], Awaitable[Any]],
) -> T:
    """Run ``write`` until it calls ``People.<method>``, then ``erase`` to its commit, then let
    ``write`` go on; what ``write`` returned."""
    real = getattr(People, method)
    reached, erased = asyncio.Event(), asyncio.Event()

    async def after_erasure(self: People, *args: Any, **kwargs: Any) -> Any:
        reached.set()
        await asyncio.wait_for(erased.wait(), 20)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(People, method, after_erasure)
    writing = asyncio.ensure_future(write())

    async def at_write() -> bool:
        return reached.is_set()

    await until(at_write, f"the write's People.{method}")
    await erase()
    erased.set()
    return await writing
