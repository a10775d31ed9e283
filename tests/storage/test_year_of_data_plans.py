"""Tables that only grow (the audit log is append-only by promise, event ids are kept for the
redelivery window, a member's ledger for as long as they buy): the statements that read them
by a member or by time must be planned on an index, or a shop three years old reads all of it.

Plans, not timings: the statement the product runs is captured and planned for any value of
its parameters (PostgreSQL's generic plan with sequential scans priced out, so a scan that
remains has no index to use; SQLite's plan before the values are bound).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.uow import UnitOfWork
from tests.storage.plan_support import Step, captured_statement, plan_for_any_value


def _reads_whole(plan: str, table: str) -> bool:
    """Whether the plan walks every row of ``table`` (no index narrows it)."""
    for line in plan.splitlines():
        if f"Seq Scan on {table}" in line:
            return True
        if line.strip().startswith(f"SCAN {table}") and "USING" not in line:
            return True
    return False


async def _plan_of(app: App, step: Step, marker: str) -> str:
    sql, count = await captured_statement(app, step, marker, commit=False)
    async with app.engine.connect() as connection:
        return await plan_for_any_value(connection, sql, count)


async def test_whether_a_member_changed_their_phone_is_read_by_an_index(app: App) -> None:
    plan = await _plan_of(app, lambda uow: uow.people.changed_phone((1, 2)), "audit_log")
    assert not _reads_whole(plan, "audit_log"), plan


async def test_a_throttle_reads_only_the_recent_audit_rows(app: App, clock: FrozenClock) -> None:
    def times(uow: UnitOfWork) -> Awaitable[Any]:
        return uow.audit.times("line:U1", ["member.lookup"], clock.now() - timedelta(hours=1))

    plan = await _plan_of(app, times, "audit_log")
    assert not _reads_whole(plan, "audit_log"), plan


async def test_forgetting_old_event_ids_reads_only_the_old_ones(
    app: App, clock: FrozenClock
) -> None:
    plan = await _plan_of(app, lambda uow: uow.events.forget_expired(clock.now()), "DELETE")
    assert not _reads_whole(plan, "processed_events"), plan


async def test_a_members_newest_ledger_entries_are_read_by_an_index(app: App) -> None:
    plan = await _plan_of(app, lambda uow: uow.points.latest(1, 10), "points_ledger")
    assert not _reads_whole(plan, "points_ledger"), plan
