"""The inbox alert's statements (the alert throttle's count, the staff to tell, the outbox rows)
are built once and given their values as parameters, with the results they had when built per
call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from bot.bootstrap import App
from storage import direct
from storage.models import ChannelIdentity, JobRun, OutboxMessage
from storage.upsert import insert_once


@contextmanager
def statements() -> Iterator[list[Any]]:
    """The statement objects every session executes meanwhile."""
    seen: list[Any] = []

    def keep(state: ORMExecuteState) -> None:
        seen.append(state.statement)

    event.listen(Session, "do_orm_execute", keep)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", keep)


def _outbox(key: str, now: Any) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "channel": "telegram",
        "user_id": "1",
        "payload": {"v": 1, "replies": []},
        "retry_key": key,
        "not_before": now,
        "created_at": now,
    }


async def test_insert_once_runs_one_statement_for_every_call(app: App) -> None:
    now, key = app.clock.now(), ["dedupe_key"]
    async with AsyncSession(app.engine) as session, session.begin():
        with statements() as seen:
            first = await insert_once(session, OutboxMessage, _outbox("k1", now), key)
            again = await insert_once(session, OutboxMessage, _outbox("k1", now), key)
            other = await insert_once(session, OutboxMessage, _outbox("k2", now), key)
    assert (first, again, other) == (True, False, True)
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]


async def test_insert_once_fills_the_defaults_the_values_leave_out(app: App) -> None:
    """Guard: the values are the execution's parameters, and SQLAlchemy still fills the
    columns' Python-side defaults (``status``, ``attempts``, ``promotional``; ``reachable``)."""
    now = app.clock.now()
    async with AsyncSession(app.engine) as session, session.begin():
        await insert_once(session, OutboxMessage, _outbox("k1", now), ["dedupe_key"])
        values = {"channel": "line", "user_id": "U1", "first_seen_at": now, "last_seen_at": now}
        await insert_once(session, ChannelIdentity, values, ["channel", "user_id"])
    async with AsyncSession(app.engine) as session:
        row = (
            await session.execute(
                select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.promotional)
            )
        ).one()
        reachable = await session.scalar(select(ChannelIdentity.reachable))
    assert tuple(row) == ("pending", 0, False)
    assert reachable is True


async def test_insert_once_takes_a_sql_expression_as_a_value(app: App) -> None:
    """Guard: a value that is SQL (not a parameter) is still written as SQL."""
    values = {"job_id": func.lower("NIGHTLY"), "period_key": "p", "started_at": app.clock.now()}
    async with AsyncSession(app.engine) as session, session.begin():
        assert await insert_once(session, JobRun, values, ("job_id", "period_key"))
    async with AsyncSession(app.engine) as session:
        assert await session.scalar(select(JobRun.job_id)) == "nightly"


async def test_the_alert_count_is_one_statement_and_its_prefix_no_pattern(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        for key in ("inbox:1_%:a1", "inbox:1xx:a1", "inbox:1_%:b"):
            await uow.outbox.enqueue(key, "telegram", "1", {"v": 1, "replies": []}, now)
        await uow.commit()
    seen: list[Any] = []
    sent = direct.rows

    async def keep(session: AsyncSession, statement: Any, values: Any) -> Any:
        seen.append(statement)  # on the driver, or first asked there (storage/direct.py)
        return await sent(session, statement, values)

    async with app.uow() as uow:
        with patch.object(direct, "rows", keep):
            exact = await uow.inbox.alerts_since("inbox:1_%:a", now)
            other = await uow.inbox.alerts_since("inbox:1x", now)
            none = await uow.inbox.alerts_since("inbox:2:a", now)
    assert (exact, other, none) == (1, 1, 0)
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]


async def test_the_staff_to_tell_are_one_statement_per_shape(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        north = await uow.branches.add("n", "เหนือ", "North")
        south = await uow.branches.add("s", "ใต้", "South")
        assert north is not None
        assert south is not None
        await uow.staff.add("telegram", "1", "Owner", "owner", None, now)
        await uow.staff.add("telegram", "2", "North", "manager", north.id, now)
        await uow.staff.add("telegram", "3", "South", "manager", south.id, now)
        await uow.staff.add("telegram", "4", "Cashier", "cashier", north.id, now)
        await uow.commit()
    asked = (
        ({"owner", "manager"}, None),
        ({"owner", "manager"}, north.id),
        (["cashier"], south.id),
        (["owner", "manager", "cashier"], None),
        (["manager", "owner"], None),  # the same set as the first, in another order
        (["manager", "owner"], south.id),
        ([], None),
    )
    found, seen = [], []
    for roles, branch in asked:
        # each alone in its unit of work, so that it is the statement that begins the
        # transaction (later ones run on the driver, not through the session's execution)
        async with app.uow() as uow:
            with statements() as executed:
                found.append([r.user_id for r in await uow.outbox.staff_recipients(roles, branch)])
            seen.append(executed[0] if executed else None)
    assert found == [
        ["1", "2", "3"],
        ["1", "2"],
        [],
        ["1", "2", "3", "4"],
        ["1", "2", "3"],
        ["1", "3"],
        [],
    ]
    if app.engine.dialect.name == "sqlite":  # every one on the one-trip driver
        assert seen == [None] * len(asked)
        return
    assert seen[0] is seen[4]  # one statement per set of roles and shape, built once
    assert seen[1] is seen[5]
    assert seen[0] is not seen[3]
    assert seen[6] is None  # no roles: nobody, and no statement
