"""The console's long reads hold no write lock on SQLite: while the live count of the members
page, the segments' counts (live and the list) or a campaign's preview is open, a webhook's
write from another connection goes through. They used to begin with ``BEGIN IMMEDIATE``, as a
unit of work that writes does: at 1M members each held every write off for seconds."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin import campaigns, member_filter, segments
from bot.bootstrap import App
from tests.unit.admin_support import Browser, console_client
from tests.unit.test_admin_campaigns import FORM, _owner_browser, _shop


def _outside_write(path: str) -> str:
    """A webhook's write, from a connection of its own that does not wait for the lock (a
    unit of work would wait up to the busy timeout): "written", or SQLite's refusal."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE members SET name = name")
        connection.execute("COMMIT")
        return "written"
    except sqlite3.OperationalError as error:
        return str(error)
    finally:
        connection.close()


async def _members_count(browser: Browser, _: int) -> int:
    return (await browser.post("/admin/members/count", {"rule": "points >= 0"})).status


async def _segment_count(browser: Browser, _: int) -> int:
    return (await browser.post("/admin/segments/count", {"rule": "points >= 0"})).status


async def _segment_list(browser: Browser, _: int) -> int:
    return (await browser.get("/admin/segments")).status


async def _preview(browser: Browser, campaign_id: int) -> int:
    return (await browser.get(f"/admin/campaigns/{campaign_id}/preview")).status


Ask = Callable[[Browser, int], Awaitable[int]]
#: the page, and the read it makes inside its unit of work (after its first statement)
READS: dict[str, tuple[Ask, Any, str]] = {
    "members live count": (_members_count, member_filter, "member_count"),
    "segment live count": (_segment_count, segments, "rule_size"),
    "segments with their counts": (_segment_list, segments, "_sizes"),
    "campaign preview": (_preview, campaigns, "measure_reach"),
}


@pytest.mark.parametrize("read", list(READS))
async def test_a_write_goes_through_while_a_long_read_is_open(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's readers never hold writers off")
    path = engine.url.database
    assert path is not None
    ask, module, name = READS[read]
    original = getattr(module, name)
    writes: list[str] = []

    async def read_then_write(*args: Any, **kwargs: Any) -> Any:
        found = await original(*args, **kwargs)
        writes.append(_outside_write(path))  # the read's unit of work is still open
        return found

    await _shop(app, size=3)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client)
        await browser.get("/admin/campaigns/new")
        saved = await browser.post("/admin/campaigns/new", FORM)
        campaign_id = int(saved.headers["Location"].split("/")[3])
        monkeypatch.setattr(module, name, read_then_write)
        assert await ask(browser, campaign_id) == 200
    assert writes == ["written"]


async def test_a_read_only_unit_of_work_cannot_commit(app: App) -> None:
    """A write slipped into a read would be rolled back with it, not half kept."""
    async with app.uow.reading() as uow:
        assert await uow.members.get(1) is None
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()
