"""The statements of a ``/sale``, pinned so they cannot grow back.

It was the slowest update of the realistic mix. A sale reads its member, the branches it may
be at and the member's figures before the sale in one statement; its row is written without a
savepoint; its points entry without looking up a key nobody can have used, with the
balance's update (one statement on PostgreSQL, one trip on SQLite); its audit row travels
with the next statement (SQLite) or goes on the driver (PostgreSQL); its receipt is written
to the member's chat account by one ``INSERT … SELECT`` that chooses the account.
"""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat
from tests.unit.statement_trace import traced, trips


def _pg(app: App) -> bool:
    return app.engine.dialect.name == "postgresql"


def _along(seen: list[tuple[str, str]]) -> list[str]:
    """The first words of what travelled with another statement (SQLite)."""
    return [" ".join(sql.split()[:3]) for how, sql in seen if how == "along"]


async def test_a_sale_reads_its_member_once_and_writes_its_points_in_one_step(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "Uowner", "owner", None, channel=Channel.LINE)
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1", points=5)
    await owner.say("/sale 0812345678 130")
    with traced(app, monkeypatch) as seen:
        await owner.say("/sale 0812345678 260")

    assert await ledger(app, ploy.id) == [(5, "welcome"), (5, "sale"), (10, "sale")]
    assert await balance(app, ploy.id) == 20
    [_, sale] = await sales(app)
    [receipt] = await queued(app, f"receipt:{sale.id}")
    assert (receipt.channel, receipt.user_id, receipt.member_id) == ("telegram", "m1", ploy.id)
    assert "20" in texts(receipt)
    assert len(await audit_rows(app, "sale.recorded")) == 2
    # the arrival; the member, the branches and the member's spend, first purchase and
    # balance; the sale; its points (PostgreSQL: the balance's UPDATE and the entry's INSERT
    # as one statement; SQLite: the entry sent along with the UPDATE); the audit row (SQLite:
    # sent along with the next statement); the receipt, written to the member's chat account
    # by the statement that chooses it
    if _pg(app):
        assert trips(seen) == ["WITH", "SELECT", "INSERT", "WITH", "INSERT", "INSERT"]
    else:
        assert trips(seen) == ["SELECT", "SELECT", "INSERT", "UPDATE", "INSERT"]
        assert _along(seen) == [
            "INSERT INTO processed_events",
            "INSERT INTO points_ledger",
            "INSERT INTO audit_log",
        ]
