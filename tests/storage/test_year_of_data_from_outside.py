"""A shop's year (and three years) of data: what housekeeping forgets, what it must keep, and
what an old member's screens read.

Driven from outside: the chat bus, the scheduler's tick with a frozen clock, and rows as the
product writes them. Assertions are on rows and on what was read or deleted, never on time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Inbound, InboundKind
from jobs.housekeeping import purge_expired
from jobs.scheduler import JOBS, tick
from storage.models import (
    ConsoleLink,
    ConsoleSession,
    ConversationState,
    JobRun,
    Member,
    OneTimeCode,
    PointsEntry,
    ProcessedEvent,
    Sale,
    Staff,
)
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.journey_support import add_branches, join, only_member

_ids = itertools.count(1)


async def _count(app: App, model: type[Any]) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(func.count()).select_from(model))
        return int(found.scalar_one())


async def _telegram_event(app: App, user: str) -> None:
    """One Telegram update from ``user`` through the bus, keyed as the Telegram adapter keys it."""
    chat = Chat(app, user_id=user)
    inbound = Inbound(
        identity=chat.identity,
        kind=InboundKind.TEXT,
        received_at=app.clock.now(),
        event_id=f"tg:{next(_ids)}",
        display_name="Ploy",
        language_code="th",
        text="/start",
    )
    await app.bus.handle(inbound)


# --- a year of ordinary use, with housekeeping ticking -------------------------------------


@pytest.mark.e2e  # a year of days, each with its chats and its housekeeping tick
async def test_a_year_of_chats_leaves_only_the_redelivery_window_of_event_ids(
    app: App, clock: FrozenClock
) -> None:
    """Every day for a year, new people write to the bot and housekeeping runs on its schedule:
    the event ids kept are those inside Telegram's redelivery window, no more and no fewer, and
    the half-finished sign-ups of people who walked away do not pile up."""
    ids = ("housekeeping.purge_expired", "scheduler.forget_old_runs")
    housekeeping = [job for job in JOBS if job.id in ids]
    for day in range(365):
        for person in range(3):
            await _telegram_event(app, f"d{day}p{person}")
        clock.advance(timedelta(days=1))
        assert "housekeeping.purge_expired" in await tick(app, housekeeping)
    events = await _count(app, ProcessedEvent)
    # Telegram's memory is three days: three or four days' events remain, never a year's
    assert 3 * 3 <= events <= 3 * 4
    # the last update is still remembered: its redelivery has no second effect
    async with app.uow() as uow:
        newest = await session_of(uow).execute(select(func.max(ProcessedEvent.processed_at)))
        assert newest.scalar_one() >= clock.now() - timedelta(days=1, seconds=1)
    assert await _count(app, ConversationState) <= 3 * 2
    # the scheduler's own record of runs is kept for its memory (60 days), not for a year
    assert await _count(app, JobRun) <= 2 * 62


# --- rows that expire but that nothing forgets ---------------------------------------------


async def _staff_and_member(app: App) -> tuple[int, int]:
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        staff = Staff(
            channel="telegram", user_id="owner", name="Owner", role="owner", created_at=now
        )
        member = Member(member_code="M000001", name="Ploy", joined_at=now)
        session.add_all([staff, member])
        await uow.flush()
        ids = (staff.id, member.id)
        await uow.commit()
    return ids


def _console_link(staff_id: int, member_id: int, i: int, at: datetime) -> object:
    return ConsoleLink(
        token_hash=f"link{i:060d}",
        staff_id=staff_id,
        locale="th",
        created_at=at,
        expires_at=at + timedelta(minutes=15),
        used_at=at + timedelta(minutes=1),
    )


def _console_session(staff_id: int, member_id: int, i: int, at: datetime) -> object:
    return ConsoleSession(
        id_hash=f"sess{i:060d}",
        staff_id=staff_id,
        role="owner",
        branch_id=None,
        locale="th",
        csrf="x" * 32,
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(days=7),
    )


def _link_code(staff_id: int, member_id: int, i: int, at: datetime) -> object:
    return OneTimeCode(
        code_hash=f"code{i:060d}",
        purpose="link",
        member_id=member_id,
        created_at=at,
        expires_at=at + timedelta(minutes=10),
        used_at=None,
    )


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (ConsoleLink, _console_link),
        (ConsoleSession, _console_session),
        (OneTimeCode, _link_code),
    ],
    ids=["console_links", "console_sessions", "one_time_codes"],
)
async def test_expired_sign_in_rows_of_a_year_ago_are_forgotten(
    app: App, clock: FrozenClock, model: type[Any], make: Any
) -> None:
    """An owner signs in to the console every day and members link accounts now and then; a year
    later every link, session and code that expired months ago is gone after housekeeping."""
    staff_id, member_id = await _staff_and_member(app)
    year_ago = clock.now() - timedelta(days=365)
    async with app.uow() as uow:
        session_of(uow).add_all(
            [make(staff_id, member_id, day, year_ago + timedelta(days=day)) for day in range(300)]
        )
        await uow.commit()
    await purge_expired(app)
    assert await _count(app, model) == 0


# --- a purge after a backlog ---------------------------------------------------------------

#: the most rows one DELETE of housekeeping may take: SQLite has one writer, and every webhook
#: waits for it while the statement runs (a backlog after an outage is many times this)
BATCH_AT_MOST = 10_000


@pytest.fixture
def deleted_per_statement(app: App) -> Iterator[list[tuple[str, int]]]:
    seen: list[tuple[str, int]] = []

    def _after(_c: Any, cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append((statement.split("WHERE")[0].strip(), int(cursor.rowcount)))

    event.listen(app.engine.sync_engine, "after_cursor_execute", _after)
    yield seen
    event.remove(app.engine.sync_engine, "after_cursor_execute", _after)


async def test_a_backlog_of_expired_event_ids_is_forgotten_in_bounded_batches(
    app: App, clock: FrozenClock, deleted_per_statement: list[tuple[str, int]]
) -> None:
    backlog = 3 * BATCH_AT_MOST
    old = clock.now() - timedelta(days=40)
    async with app.uow() as uow:
        await session_of(uow).execute(
            insert(ProcessedEvent),
            [{"event_key": f"line:{i}", "processed_at": old} for i in range(backlog)],
        )
        await session_of(uow).execute(
            insert(ProcessedEvent),
            [{"event_key": "line:fresh", "processed_at": clock.now()}],
        )
        await uow.commit()
    await purge_expired(app)
    assert await _count(app, ProcessedEvent) == 1  # all of the backlog went, the fresh one stays
    events = [rows for statement, rows in deleted_per_statement if "processed_events" in statement]
    assert events
    assert max(events) <= BATCH_AT_MOST


# --- an old member's /history ---------------------------------------------------------------


def _bkk(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour - 7, 0, tzinfo=UTC)


async def _member_of_three_years(app: App, sales: int) -> int:
    """A member who joined three years ago and bought ``sales`` times since, oldest first;
    the last two sales straddle New Year in Bangkok (2568 → 2569 in the Buddhist Era)."""
    branch = (await add_branches(app))["asoke"]
    await join(Chat(app))
    member = (await only_member(app)).id
    start = app.clock.now() - timedelta(days=3 * 365)
    step = (timedelta(days=3 * 365 - 70)) / sales
    moments = [start + step * i for i in range(sales - 2)]
    moments += [_bkk(2025, 12, 31, 20), _bkk(2026, 1, 1, 10)]
    async with app.uow() as uow:
        session = session_of(uow)
        await session.execute(
            insert(Sale),
            [
                {
                    "receipt_no": f"R{i:05d}",
                    "member_id": member,
                    "branch_id": branch,
                    "amount": Decimal(100 + i),
                    "occurred_at": at,
                    "source": "import",
                }
                for i, at in enumerate(moments)
            ],
        )
        await session.execute(
            insert(PointsEntry),
            [
                {
                    "member_id": member,
                    "delta": 1 + i % 7,
                    "reason": "sale",
                    "earned_at": at,
                    "created_at": at,
                    "idempotency_key": f"imp:{i}",
                }
                for i, at in enumerate(moments)
            ],
        )
        await uow.commit()
    return member


async def test_history_of_three_years_shows_the_newest_across_new_year_in_buddhist_era(
    app: App,
) -> None:
    """/history of a member with 2,000 sales shows the newest ten: the one of New Year's Day
    first, then New Year's Eve, each dated in its own Buddhist-Era year."""
    await _member_of_three_years(app, 2_000)
    text = (await Chat(app).say("/history"))[0].text
    assert "R01999" not in text  # receipts are not shown, amounts are
    newest, eve = text.index("2,099 บาท"), text.index("2,098 บาท")
    assert newest < eve
    assert "1 ม.ค. 2569" in text
    assert "31 ธ.ค. 2568" in text
    assert text.count("บาท") == 10  # ten sales, however many there are


async def test_history_of_a_regular_reads_only_what_it_shows(app: App) -> None:
    await _member_of_three_years(app, 2_000)
    loaded: list[object] = []

    def _load(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(PointsEntry, "load", _load)
    try:
        replies = await Chat(app).say("/history")
    finally:
        event.remove(PointsEntry, "load", _load)
    assert replies
    assert "2,099 บาท" in replies[0].text
    assert len(loaded) <= 50
