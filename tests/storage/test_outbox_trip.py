"""A fan-out feeder's claim (``jobs.fanout_claim``, ``Outbox.claim_rows``): on SQLite the select,
the lease and the commit in one trip; the same rows, lease and withdrawals as
``claim_sendable`` on either database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine as create_sync_engine

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs.fanout_claim import claim_fanout
from storage.along import compiled
from storage.repositories import outbox_statements as statements
from tests.storage.outbox_support import add_member
from tests.storage.trip_support import count_trips

LEASE = timedelta(minutes=5)


async def _promotion(app: App, key: str, member_id: int, user_id: str) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="1-get-1")])
        now = app.clock.now()
        await uow.outbox.enqueue(key, "line", user_id, payload, now, member_id, promotional=True)
        await uow.commit()


async def _member(app: App, user_id: str, *, opted_in: bool) -> int:
    member_id = await add_member(app, [("line", user_id, app.clock.now())])
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        member.marketing_opt_in = opted_in
        await uow.commit()
    return member_id


async def _statuses(app: App) -> dict[str, tuple[str, bool]]:
    """Each row's status, and whether its ``not_before`` is a lease ahead."""
    now = app.clock.now()
    async with app.uow() as uow:
        rows = await uow.outbox.due(now + 2 * LEASE, 100)
    return {row.dedupe_key: (row.status, row.not_before >= now + LEASE) for row in rows}


async def test_a_fanout_claim_leases_withdraws_and_commits(app: App) -> None:
    for n in range(3):
        await _promotion(app, f"cmp:1:{n}", await _member(app, f"U{n}", opted_in=True), f"U{n}")
    await _promotion(app, "cmp:1:9", await _member(app, "U9", opted_in=False), "U9")
    now = app.clock.now()
    async with app.uow() as uow:
        built = await claim_fanout(uow, now, 10, now + LEASE, ["line"], {})
    claimed = built()
    assert [m.dedupe_key for m in claimed.messages] == ["cmp:1:0", "cmp:1:1", "cmp:1:2"]
    assert claimed.withdrawn == 1
    assert all(m.channel == "line" and m.promotional for m in claimed.messages)
    async with app.uow() as uow:  # committed: another unit of work sees the lease
        assert await uow.outbox.claim(now, 10, now + LEASE, ["line"]) == []
        withdrawn = await uow.outbox.by_key("cmp:1:9")
    assert withdrawn is not None
    assert withdrawn.status == "cancelled"
    leased = await _statuses(app)
    assert leased == {f"cmp:1:{n}": ("pending", True) for n in range(3)}


async def test_a_fanout_claim_takes_its_limit_and_leaves_the_rest_due(app: App) -> None:
    for n in range(3):
        await _promotion(app, f"cmp:1:{n}", await _member(app, f"U{n}", opted_in=True), f"U{n}")
    now = app.clock.now()
    async with app.uow() as uow:
        first = (await claim_fanout(uow, now, 2, now + LEASE, ["line"], {}))()
    async with app.uow() as uow:
        second = (await claim_fanout(uow, now, 2, now + LEASE, ["line"], {}))()
    assert [m.dedupe_key for m in first.messages] == ["cmp:1:0", "cmp:1:1"]
    assert [m.dedupe_key for m in second.messages] == ["cmp:1:2"]


async def test_on_sqlite_a_fanout_claim_is_one_trip(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-trip driver")
    for n in range(3):
        await _promotion(app, f"cmp:1:{n}", await _member(app, f"U{n}", opted_in=True), f"U{n}")
    now = app.clock.now()
    async with app.uow() as uow:
        trips = count_trips(monkeypatch)
        built = await claim_fanout(uow, now, 10, now + LEASE, ["line"], {})
        made = list(trips)
    # the select, the lease and the commit together (before: the select, then the lease with
    # the commit)
    assert made == ["begin_then"]
    assert len(built().messages) == 3


def test_a_list_the_statement_holds_is_sent_as_one_parameter_each() -> None:
    dialect = create_sync_engine("sqlite://").dialect

    class Bind:  # what the statements read of a bind: its dialect
        pass

    bind = Bind()
    bind.dialect = dialect  # type: ignore[attr-defined]
    claim = statements.claim(bind, ["line", "telegram"], urgent_only=False)  # type: ignore[arg-type]
    sql, names, _, held = compiled(claim, dialect)
    assert "outbox.channel IN (?, ?)" in sql
    assert "POSTCOMPILE" not in sql
    at = names.index("channel_1_0")
    assert held[at : at + 2] == ("line", "telegram")
