"""The sign-up's last step (``storage/repositories/joining.py``) as the outside meets it: the
same event delivered twice, two events of one chat at once, two chats with one number at the
same instant (on PostgreSQL in transactions of their own, made to meet at the INSERT), and a
failure after the member's INSERT, which must leave nothing half-written."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.i18n import t
from handlers.customer import signup
from handlers.customer.common import audit as real_audit
from storage.errors import DriverError
from storage.models import Member
from storage.repositories.points import PointsLedger
from tests.chat import Chat
from tests.storage.join_edges_support import (
    LAST,
    PHONE,
    Written,
    meet_at_insert,
    on_postgres,
    press_as,
    step_of,
    text_of,
    to_last_step,
    until,
    written,
)

ON_POSTGRES = os.environ.get("CHATCRM_TEST_DATABASE_URL", "").startswith("postgresql")
WELCOME = [(50, "welcome")]
BOTH = [("membership", True), ("marketing", True)]


def _joined_once(found: Written, name: str, user_id: str) -> None:
    """One member ``name``, linked to ``user_id``, both consents, one welcome credit, one
    ``member.joined`` audit row, its balance the ledger's."""
    member = found.member(name)
    assert found.links[user_id] == member.id
    assert found.consents[member.id] == BOTH
    assert found.points[member.id] == WELCOME
    assert member.points_balance == 50
    assert found.audit.count(("member.joined", member.id)) == 1


async def test_the_last_step_delivered_twice_joins_once(app: App) -> None:
    chat = Chat(app, user_id="a")
    await to_last_step(chat)
    first = await press_as(chat, LAST, "tg:last")
    again = await press_as(chat, LAST, "tg:last")
    assert t("th", "signup.done", name="Ploy", points=50) in text_of(first)
    assert again == []  # a redelivery has no second effect, and no second answer
    found = await written(app)
    assert len(found.members) == 1
    _joined_once(found, "Ploy", "a")
    assert found.audit == [("member.joined", found.members[0].id)]


async def test_a_redelivery_while_the_first_delivery_runs_joins_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the redelivery arrives while the first is inside the member's INSERT
    (its own transaction, waiting on the event id); on SQLite the one writer orders them."""
    chat = Chat(app, user_id="a")
    await to_last_step(chat)
    if on_postgres(engine):
        go, inside = asyncio.Event(), asyncio.Event()
        real = signup._welcome

        async def held(*args: object, **kwargs: object) -> object:
            inside.set()
            await asyncio.wait_for(go.wait(), 20)
            return await real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(signup, "_welcome", held)
        first = asyncio.create_task(press_as(chat, LAST, "tg:last"))
        await asyncio.wait_for(inside.wait(), 20)
        second = asyncio.create_task(press_as(chat, LAST, "tg:last"))

        async def waiting_on_a_lock() -> bool:
            async with engine.connect() as connection:
                sql = (
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                return bool((await connection.execute(text(sql))).scalar_one())

        await until(waiting_on_a_lock, "the redelivery waiting on the first")
        go.set()
        answers = [await first, await second]
    else:
        answers = list(
            await asyncio.gather(press_as(chat, LAST, "tg:x"), press_as(chat, LAST, "tg:x"))
        )
    assert sorted(len(a) for a in answers) == [0, 2]  # one answered, the other a duplicate
    found = await written(app)
    assert len(found.members) == 1
    _joined_once(found, "Ploy", "a")


async def test_two_chats_with_one_number_at_once_both_join(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = Chat(app, user_id="a"), Chat(app, user_id="b")
    await to_last_step(first, "Ploy")
    await to_last_step(second, "Nok")
    answers = await meet_at_insert(
        engine, monkeypatch, [lambda: first.press(LAST), lambda: second.press(LAST)]
    )
    for name, replies in zip(("Ploy", "Nok"), answers, strict=True):
        assert t("th", "signup.done", name=name, points=50) in text_of(replies)
        assert t("th", "error.internal") not in text_of(replies)
    found = await written(app)
    assert len(found.members) == 2
    for name, user_id in (("Ploy", "a"), ("Nok", "b")):
        _joined_once(found, name, user_id)
    (linked,) = [m for m in found.members if m.phone == PHONE]
    (kept,) = [m for m in found.members if m.phone_unlinked == PHONE]
    assert kept.phone is None
    assert linked.phone_unlinked is None
    assert not kept.phone_verified
    assert [a for a in found.audit if a[0] == "member.phone_duplicate"] == [
        ("member.phone_duplicate", kept.id)
    ]


async def _double_tap(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, chat: Chat
) -> list[list[Reply]]:
    """``chat`` taken to the last step, which it then answers twice at once (on PostgreSQL two
    events in transactions of their own); neither is answered with the error."""
    await to_last_step(chat)
    answers = await meet_at_insert(
        engine, monkeypatch, [lambda: chat.press(LAST), lambda: chat.press(LAST)]
    )
    assert not any(t("th", "error.internal") in text_of(a) for a in answers)
    return answers


async def test_two_events_of_one_chat_at_the_last_step_join_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(app, user_id="a")
    answers = await _double_tap(engine, monkeypatch, chat)
    found = await written(app)
    assert [m.name for m in found.members] == ["Ploy"]
    _joined_once(found, "Ploy", "a")
    assert not any(action == "member.phone_duplicate" for action, _ in found.audit)
    texts = [text_of(answer) for answer in answers]
    assert sum(t("th", "signup.done", name="Ploy", points=50) in text for text in texts) == 1
    if ON_POSTGRES:  # the one that waited for the other's lock is told, not welcomed twice
        assert sum(t("th", "signup.joined_meanwhile") in text for text in texts) == 1


async def test_two_events_of_one_chat_with_a_held_number_join_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number another member holds is kept unlinked, so no unique key stops a second member:
    only the chat account's lock does."""
    holder = Chat(app, user_id="h")
    await to_last_step(holder, name="Holder")
    await holder.press(LAST)
    chat = Chat(app, user_id="a")
    answers = await _double_tap(engine, monkeypatch, chat)
    welcomed = [a for a in answers if t("th", "signup.done", name="Ploy", points=50) in text_of(a)]
    assert len(welcomed) == 1
    found = await written(app)
    assert sorted(m.name or "" for m in found.members) == ["Holder", "Ploy"]
    _joined_once(found, "Ploy", "a")
    assert found.member("Ploy").phone_unlinked == PHONE
    duplicates = [a for a in found.audit if a[0] == "member.phone_duplicate"]
    assert duplicates == [("member.phone_duplicate", found.member("Ploy").id)]


def _nothing_written(found: Written) -> None:
    assert found.members == []
    assert found.consents == {}
    assert found.points == {}
    assert set(found.links.values()) == {None}
    assert not any(action.startswith("member.") for action, _ in found.audit)


async def _retried(app: App, chat: Chat) -> None:
    """The person presses the last answer again: it joins, once."""
    assert await step_of(app, chat) == "gender"  # the failed event kept the step
    replies = await chat.press(LAST)
    assert t("th", "signup.done", name="Ploy", points=50) in text_of(replies)
    found = await written(app)
    assert len(found.members) == 1
    _joined_once(found, "Ploy", "a")


def _driver_error(invalidated: bool) -> DriverError:
    return DriverError("INSERT", {}, RuntimeError("boom"), connection_invalidated=invalidated)


@pytest.mark.parametrize("failure", ["audit", "credit", "credit-driver"])
async def test_a_failure_after_the_insert_leaves_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    chat = Chat(app, user_id="a")
    await to_last_step(chat)
    real_credit = PointsLedger.append_new

    async def audit(ctx: object, action: str, *args: object, **kwargs: object) -> None:
        if action == "member.joined":
            raise RuntimeError("audit down")
        await real_audit(ctx, action, *args, **kwargs)  # type: ignore[arg-type]

    async def credit(*args: object, **kwargs: object) -> None:
        # before any statement of its own: on SQLite the link and the consents still wait
        # for the next statement when this fails
        if failure == "credit-driver":
            raise _driver_error(invalidated=False)
        raise RuntimeError("ledger down")

    if failure == "audit":
        monkeypatch.setattr(signup, "audit", audit)
    else:
        monkeypatch.setattr(PointsLedger, "append_new", credit)
    replies = await chat.press(LAST)
    assert text_of(replies) == t("th", "error.internal")
    _nothing_written(await written(app))
    monkeypatch.setattr(signup, "audit", real_audit)
    monkeypatch.setattr(PointsLedger, "append_new", real_credit)
    await _retried(app, chat)


async def test_a_lost_connection_after_the_insert_runs_the_event_again_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(app, user_id="a")
    await to_last_step(chat)
    real = PointsLedger.append_new
    calls: list[int] = []

    async def once_lost(self: PointsLedger, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise _driver_error(invalidated=True)
        return await real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PointsLedger, "append_new", once_lost)
    replies = await chat.press(LAST)
    assert len(calls) == 2  # the bus ran the event again, on a fresh connection
    assert t("th", "signup.done", name="Ploy", points=50) in text_of(replies)
    found = await written(app)
    assert len(found.members) == 1
    _joined_once(found, "Ploy", "a")


async def test_a_crash_in_a_shared_batch_undoes_only_that_sign_up(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two last steps, together in a group-commit batch; one fails right after its member's
    INSERT: its member, link and consents (on SQLite still waiting for the next statement) are
    undone, the other joins; the failed one joins when pressed again."""
    crash, other = Chat(app, user_id="a"), Chat(app, user_id="b")
    await to_last_step(crash, "Ploy", "0812345678")
    await to_last_step(other, "Nok", "0899999999")
    real = signup._welcome

    async def welcome(ctx: object, member: Member, *args: object, **kw: object) -> object:
        if member.name == "Ploy":  # right after the INSERT: nothing else of it ran yet
            raise RuntimeError("welcome down")
        return await real(ctx, member, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(signup, "_welcome", welcome)
    answers = await asyncio.gather(crash.press(LAST), other.press(LAST))
    assert text_of(answers[0]) == t("th", "error.internal")
    assert t("th", "signup.done", name="Nok", points=50) in text_of(answers[1])
    found = await written(app)
    assert [m.name for m in found.members] == ["Nok"]
    _joined_once(found, "Nok", "b")
    assert set(found.consents) == set(found.points) == {found.members[0].id}
    assert found.links["a"] is None
    monkeypatch.setattr(signup, "_welcome", real)
    replies = await crash.press(LAST)
    assert t("th", "signup.done", name="Ploy", points=50) in text_of(replies)
    _joined_once(await written(app), "Ploy", "a")


async def test_a_racing_sign_up_that_fails_leaves_the_number_to_the_other(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two chats with one number at once; the one that fails after its INSERT (whichever
    inserted first) is undone: the other holds the number, linked, and is not flagged."""
    failing, other = Chat(app, user_id="a"), Chat(app, user_id="b")
    await to_last_step(failing, "Ploy")
    await to_last_step(other, "Nok")
    real = signup._welcome

    async def welcome(ctx: object, member: Member, *args: object, **kw: object) -> object:
        if member.name == "Ploy":
            raise RuntimeError("welcome down")
        return await real(ctx, member, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(signup, "_welcome", welcome)
    answers = await meet_at_insert(
        engine, monkeypatch, [lambda: failing.press(LAST), lambda: other.press(LAST)]
    )
    assert t("th", "signup.done", name="Nok", points=50) in text_of(answers[1])
    found = await written(app)
    assert [(m.name, m.phone, m.phone_unlinked) for m in found.members] == [("Nok", PHONE, None)]
    _joined_once(found, "Nok", "b")
    assert not any(action == "member.phone_duplicate" for action, _ in found.audit)
    assert found.links["a"] is None
