"""The console's filtered page and its count when the walked head of the page is short: the count's
one pass (``member_tally``) brings a small segment's ids along and the page is read by id, not
found by a second pass (on both databases). Whichever of the count and the head walk ends first,
the page and the count are those of the rule, for rules matching no one, a few members, exactly
a page and many members, from the first page and deeper, for the shop and for one branch, on
both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import ColumnElement

from bot.bootstrap import App
from storage import console_queries
from storage.console_queries import (
    MemberPage,
    member_count,
    member_page,
    member_tally,
    page_and_count,
)
from storage.models import Member
from tests.unit.staff_support import ensure_branches, make_member

LIMIT = 3
#: points of the shop's members in id order; a rule ``points >= N`` picks some of them
POINTS = (10, 500, 20, 400, 30, 300, 200, 40, 100, 600)
#: threshold → how many members match: none, a few, exactly a page, many
RULES = {1000: 0, 450: 2, 250: 4, 50: 6}


async def _shop(app: App) -> list[Member]:
    return [
        await make_member(app, f"M{n}", f"08{n}1234567", points=points)
        for n, points in enumerate(POINTS)
    ]


def _expected(members: list[Member], least: int, after: int) -> tuple[list[int], int | None, int]:
    """The rule's page after ``after`` (ids, next_after) and its count, worked out here."""
    matching = [m.id for m in members if m.points_balance >= least]
    following = [i for i in matching if i > after]
    page = following[:LIMIT]
    return page, page[-1] if len(following) > LIMIT else None, len(matching)


class _Calls:
    """Which reads ``page_and_count`` made, and which of the head walk and the count it is
    made to see end first."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, count_first: bool) -> None:
        self.pages: list[dict[str, Any]] = []
        #: a count (or a tally) answered
        self.counted = asyncio.Event()
        self.walked = asyncio.Event()
        #: the answers of the tally (head-first: the count's only source)
        self.tallies: list[tuple[int, list[int] | None]] = []

        async def page(*args: Any, **kwargs: Any) -> MemberPage:
            self.pages.append(kwargs)
            if count_first:
                await self.counted.wait()
            return await member_page(*args, **kwargs)

        walk = console_queries._Members.page

        async def walked(members: Any, *args: Any, **kwargs: Any) -> MemberPage:
            try:
                return await walk(members, *args, **kwargs)
            finally:
                # once its unit of work has ended too: set when the page's read returned, a
                # count of nothing could end while the page's connection was still being handed
                # back, before ``page_and_count`` saw the page done
                self.walked.set()

        async def count(*args: Any) -> int:
            if not count_first:  # a count at 1M members: the head walk ends long before it
                await self.walked.wait()
            size = await member_count(*args)
            self.counted.set()
            return size

        async def tally(*args: Any) -> tuple[int, list[int] | None]:
            if not count_first:
                await self.walked.wait()
            found = await member_tally(*args)
            self.tallies.append(found)
            self.counted.set()
            return found

        monkeypatch.setattr(console_queries, "member_page", page)
        monkeypatch.setattr(console_queries._Members, "page", walked)
        monkeypatch.setattr(console_queries, "member_count", count)
        monkeypatch.setattr(console_queries, "member_tally", tally)

    def walked_past_head(self, rule: ColumnElement[bool]) -> bool:
        """Whether the page was looked for beyond the head by the rule (not read by id)."""
        return any(call.get("upto") is None and call["rule"] is rule for call in self.pages)


@pytest.mark.parametrize("count_first", [False, True], ids=["head-first", "count-first"])
@pytest.mark.parametrize(("least", "size"), list(RULES.items()))
@pytest.mark.parametrize("few", [200, 2])
async def test_the_page_and_the_count_are_the_rule_s(
    app: App, monkeypatch: pytest.MonkeyPatch, count_first: bool, least: int, size: int, few: int
) -> None:
    members = await _shop(app)
    ids = [m.id for m in members]
    monkeypatch.setattr(console_queries, "FEW", few)
    rule = Member.points_balance >= least
    # from the first page and deeper; the head walked beside the count: the next two members
    for after, head in ((0, ids[1]), (ids[1], ids[3]), (ids[4], ids[6])):
        calls = _Calls(monkeypatch, count_first)
        monkeypatch.setattr(console_queries, "HEAD_START", head - after)
        # the guard only turns a page or count left waiting into a failure, not a hang
        found, counted = await asyncio.wait_for(
            page_and_count(app.uow, None, rule, after, LIMIT), 30
        )
        page, next_after, expected = _expected(members, least, after)
        assert (counted, [m.id for m in found.members], found.next_after) == (
            expected,
            page,
            next_after,
        )
        assert expected == size
        if not count_first:
            # the count came from the tally's one pass, on PostgreSQL too
            assert [size for size, _ in calls.tallies] == [expected]
            # a segment smaller than FEW: one pass, its page read by id
            assert calls.walked_past_head(rule) == (size >= few)


async def test_a_branch_s_page_and_count_are_the_branch_s(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    everyone = []
    for n in range(6):
        code = "asoke" if n % 2 else "ratchada"
        member = await make_member(app, f"M{n}", f"08{n}1234567", points=300, home_branch_code=code)
        everyone.append(member)
    mine = [m.id for m in everyone if m.home_branch_id == branches["asoke"]]
    # the head walked beside the count: the first member, of the other branch
    monkeypatch.setattr(console_queries, "HEAD_START", everyone[0].id)
    calls = _Calls(monkeypatch, count_first=False)
    rule = Member.points_balance >= 100
    found, size = await asyncio.wait_for(page_and_count(app.uow, branches["asoke"], rule, 0, 2), 30)
    assert [size for size, _ in calls.tallies] == [3]  # the count came from the tally
    assert size == 3
    assert ([m.id for m in found.members], found.next_after) == (mine[:2], mine[1])
    monkeypatch.setattr(console_queries, "HEAD_START", 1)
    found, size = await asyncio.wait_for(
        page_and_count(app.uow, branches["asoke"], rule, mine[1], 2), 30
    )
    assert ([m.id for m in found.members], found.next_after, size) == ([mine[2]], None, 3)


async def test_the_tally_brings_a_small_segment_s_ids_in_order(app: App) -> None:
    members = await _shop(app)
    async with app.uow() as uow:
        few = await member_tally(uow, None, Member.points_balance >= 450)
        many = await member_tally(uow, None, Member.points_balance >= 0)
        none = await member_tally(uow, None, Member.points_balance >= 10**6)
    assert few == (2, [members[1].id, members[9].id])
    assert none == (0, [])
    assert many == (10, [m.id for m in members])  # 10 < FEW
