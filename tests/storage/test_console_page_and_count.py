"""The console's filtered page and its count, side by side: they agree, and a count of 0 stops
the page (which, walking the members one by one, would read them all to find none)."""

from __future__ import annotations

import asyncio

import pytest

from bot.bootstrap import App
from storage import console_queries
from storage.console_queries import MemberPage, page_and_count
from storage.models import Member
from tests.unit.staff_support import make_member


async def test_the_page_and_the_count_agree(app: App) -> None:
    for n, points in enumerate((50, 300, 900)):
        await make_member(app, f"M{n}", f"08{n}1234567", points=points)
    found, size = await page_and_count(app.uow, None, Member.points_balance >= 100, 0, 50)
    assert size == 2
    assert sorted(member.name for member in found.members) == ["M1", "M2"]
    assert found.next_after is None


async def test_a_count_of_nothing_stops_the_page(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = asyncio.Event()

    async def endless_walk(*_: object, **__: object) -> MemberPage:
        try:
            await asyncio.Event().wait()  # every member of a big shop, one by one
        except asyncio.CancelledError:
            stopped.set()
            raise
        raise AssertionError("unreachable")

    monkeypatch.setattr(console_queries, "member_page", endless_walk)
    await make_member(app, "M", "0811234567", points=10)
    nobody = Member.points_balance > 10**6
    # the guard only turns a page left walking into a failure instead of a hang
    found, size = await asyncio.wait_for(page_and_count(app.uow, None, nobody, 0, 50), 30)
    assert (found.members, found.next_after, size) == ([], None, 0)
    assert stopped.is_set()
