"""PostgreSQL: an event's arrival (its id recorded, ``last_seen_at``, the author read) after the
transaction's first statement runs on asyncpg (``storage/direct.py``), as the group commit's
later events of a batch run it, and reads what SQLAlchemy's execution reads."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.bootstrap import App
from storage.models import Member, ProcessedEvent
from storage.repositories.arrival import Arrival
from tests.unit.journey_support import count_rows
from tests.unit.statement_trace import traced


def _postgresql(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the arrival's CTE is PostgreSQL's")


async def _author(app: App, user_id: str, name: str) -> None:
    """A member (a Thai name with an emoji) on ``user_id``, a staff account, a sign-up state
    with JSON data, last seen an hour before the clock."""
    before = app.clock.now() - timedelta(hours=1)
    async with app.uow() as uow:
        member = await uow.members.add(
            Member(
                name=name,
                phone=f"+668{abs(hash(user_id)) % 10**8:08d}",
                birthday=date(1990, 5, 1),
                locale="th",
                joined_at=before,
                marketing_opt_in=True,
                phone_verified=False,
                points_balance=70,
            )
        )
        identity = await uow.identities.touch("telegram", user_id, before, name, "th")
        identity.member_id = member.id
        await uow.staff.add("telegram", user_id, name, "cashier", None, before)
        data = {"name": name, "n": 3, "ok": True, "none": None}
        expires = before + timedelta(days=1)
        await uow.conversations.save("telegram", user_id, "su", "phone", data, before, expires)
        await uow.commit()


def _shown(arrival: Arrival | None) -> dict[str, Any]:
    """What an arrival says, without the ids two authors cannot share."""
    assert arrival is not None
    assert arrival.member is not None
    assert arrival.staff is not None
    assert arrival.conversation is not None
    identity = arrival.identity._asdict()
    member = arrival.member._asdict()
    staff = arrival.staff._asdict()
    for values in (identity, member, staff):
        for key in ("id", "member_id", "user_id", "member_code", "phone"):
            values.pop(key, None)
    state = arrival.conversation._asdict()
    state.pop("user_id", None)
    return {
        "identity": identity,
        "member": member,
        "staff": staff,
        "state": state,
        "rest": tuple(arrival)[4:],
    }


async def test_a_later_arrival_runs_on_asyncpg_and_reads_what_the_first_reads(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql(app)
    await _author(app, "71", "พลอย 🌸")
    await _author(app, "72", "พลอย 🌸")
    now = app.clock.now()
    with traced(app, monkeypatch) as seen:
        async with app.uow() as uow:
            first = await uow.identities.arrive_recording("telegram:1", "telegram", "71", now)
            first_trips = list(seen)
            later = await uow.identities.arrive_recording("telegram:2", "telegram", "72", now)
            again = await uow.identities.arrive_recording("telegram:2", "telegram", "72", now)
            await uow.commit()

    assert [how for how, _ in first_trips] == ["sa"]  # the first begins the transaction
    assert [(how, sql.split()[0]) for how, sql in seen[1:]] == [
        ("driver", "WITH"),
        ("driver", "WITH"),
    ]
    assert _shown(later) == _shown(first)
    assert later is not None
    assert later.identity.last_seen_at == now
    assert later.conversation is not None
    assert later.conversation.data["n"] == 3
    assert again is None  # the same id within the transaction that recorded it
    assert await count_rows(app, ProcessedEvent) == 2
    async with app.uow() as uow:
        stored = await uow.identities.get("telegram", "72")
    assert stored is not None
    assert stored.last_seen_at == now


async def test_a_later_arrival_of_a_new_account_creates_it(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql(app)
    await _author(app, "73", "Ann")
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.identities.arrive_recording("telegram:3", "telegram", "73", now)
        with traced(app, monkeypatch) as seen:
            new = await uow.identities.arrive_recording("telegram:4", "telegram", "74", now, "Bo")
        await uow.commit()

    assert seen[0][0] == "driver"
    assert new is not None
    assert new.member is None
    assert new.identity.display_name == "Bo"
    async with app.uow() as uow:
        stored = await uow.identities.get("telegram", "74")
    assert stored is not None
    assert stored.display_name == "Bo"
