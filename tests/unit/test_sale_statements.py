"""The statements of a ``/sale``, pinned so they cannot grow back.

It was the slowest update of the realistic mix: a sale's reads of its member go in one
statement, its row is written without a savepoint, its points entry without looking up a key
nobody can have used (on PostgreSQL with the balance's update, in one statement).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.bootstrap import App
from bot.core.messages import Channel
from storage import direct
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


@contextlib.contextmanager
def first_words(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first word of every statement the app runs while the block runs; on SQLite a
    read on the driver (``storage/direct.py``) counts as ``driver``."""
    statements: list[str] = []

    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.split()[0])

    on_driver = direct.rows

    async def _driver(*args: Any) -> Any:
        found = await on_driver(*args)
        if found is not None:
            statements.append("driver")
        return found

    monkeypatch.setattr(direct, "rows", _driver)
    event.listen(app.engine.sync_engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _count)
        monkeypatch.setattr(direct, "rows", on_driver)


def _pg(app: App) -> bool:
    return app.engine.dialect.name == "postgresql"


async def test_a_sale_reads_its_member_once_and_writes_its_points_in_one_step(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "Uowner", "owner", None, channel=Channel.LINE)
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1", points=5)
    await owner.say("/sale 0812345678 130")
    with first_words(app, monkeypatch) as statements:
        await owner.say("/sale 0812345678 260")

    assert await ledger(app, ploy.id) == [(5, "welcome"), (5, "sale"), (10, "sale")]
    assert await balance(app, ploy.id) == 20
    [_, sale] = await sales(app)
    assert "20" in texts((await queued(app, f"receipt:{sale.id}"))[0])
    assert len(await audit_rows(app, "sale.recorded")) == 2
    # the arrival; the member by phone; the branches; the member's spend, first purchase and
    # balance; the sale; its points (PostgreSQL: the balance's UPDATE and the entry's INSERT
    # as one statement); the audit row; the member's chat account and the receipt. The spend's
    # read and the receipt's INSERT run on the driver (storage/direct.py: SQLite's, or asyncpg
    # once the transaction began)
    if _pg(app):
        expected = ["WITH", "SELECT", "SELECT", "driver", "INSERT", "WITH", "INSERT"]
    else:
        expected = ["driver", "SELECT", "SELECT", "driver", "INSERT", "UPDATE", "INSERT", "INSERT"]
    assert statements == [*expected, "SELECT", "driver"]
