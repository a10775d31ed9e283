"""Hot-path Core writes (storage/core_writes.py): the session's objects show them as stored, and
a savepoint that undoes them leaves no object showing a value the database no longer has."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock


async def _thread_opened_minutes_ago(app: App, clock: FrozenClock) -> int:
    """A LINE user with an inbox thread opened now; the clock then moves 3 minutes on.
    Returns the user's identity id."""
    async with app.uow() as uow:
        identity = await uow.identities.touch("line", "U1", clock.now())
        await uow.inbox.open_thread(identity.id, None, None, clock.now())
        await uow.commit()
    clock.advance(timedelta(minutes=3))
    return identity.id


async def test_a_message_received_stores_it_and_moves_its_thread(
    app: App, clock: FrozenClock
) -> None:
    identity_id = await _thread_opened_minutes_ago(app, clock)
    async with app.uow() as uow:
        thread, _ = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert thread is not None
        message = await uow.inbox.receive(thread, identity_id, "hello", clock.now(), "rt1")
        assert thread.last_message_at == clock.now()
        await uow.commit()
    async with app.uow() as uow:
        stored = await uow.inbox.messages(thread.id)
        again = await uow.inbox.thread(thread.id)
    assert [(m.id, m.text, m.reply_token, m.direction) for m in stored] == [
        (message.id, "hello", "rt1", "in")
    ]
    assert again is not None
    assert again.last_message_at == clock.now()


async def test_a_receive_undone_by_a_savepoint_leaves_the_thread_as_stored(
    app: App, clock: FrozenClock
) -> None:
    opened = clock.now()
    identity_id = await _thread_opened_minutes_ago(app, clock)
    async with app.uow() as uow:
        thread, _ = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert thread is not None
        with contextlib.suppress(RuntimeError):
            async with uow.savepoint():
                await uow.inbox.receive(thread, identity_id, "hello", clock.now())
                raise RuntimeError("the event failed")
        # the same session reads the thread again (the next event of a batch would)
        again, last_direction = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert again is thread
        assert thread.last_message_at == opened
        assert last_direction is None


async def test_a_conversation_saved_twice_is_one_row_and_the_held_state_shows_it(
    app: App, clock: FrozenClock
) -> None:
    now = clock.now()
    later = now + timedelta(minutes=10)
    async with app.uow() as uow:
        await uow.conversations.save("line", "U1", "signup", "name", {"a": 1}, now, later)
        await uow.commit()
    async with app.uow() as uow:
        held = await uow.conversations.get("line", "U1", now)
        assert held is not None
        await uow.conversations.save("line", "U1", "signup", "phone", {"a": 2}, now, later)
        assert (held.step, held.data) == ("phone", {"a": 2})
        with contextlib.suppress(RuntimeError):
            async with uow.savepoint():
                await uow.conversations.save("line", "U1", "signup", "gender", {}, now, later)
                raise RuntimeError("the event failed")
        again = await uow.conversations.get("line", "U1", now)
        assert again is held
        assert (held.step, held.data) == ("phone", {"a": 2})
        await uow.commit()
    async with app.uow() as uow:
        stored = await uow.conversations.get("line", "U1", now)
        assert stored is not None
        assert (stored.flow, stored.step, stored.data) == ("signup", "phone", {"a": 2})


async def test_a_cleared_conversation_reads_as_none_in_the_same_transaction(
    app: App, clock: FrozenClock
) -> None:
    """The clear is one statement built once: the session's copy of the state must go with the
    row (it stayed, and ``get`` served the deleted state), and come back when a savepoint
    undoes the clear."""
    now = clock.now()
    later = now + timedelta(minutes=10)
    async with app.uow() as uow:
        await uow.conversations.save("line", "U2", "signup", "name", {}, now, later)
        await uow.conversations.save("line", "U3", "signup", "name", {}, now, later)
        await uow.commit()
    async with app.uow() as uow:
        # held, as the event's context holds its state (the session keeps only weak references)
        held = [await uow.conversations.get("line", user, now) for user in ("U2", "U3")]
        assert None not in held
        await uow.conversations.clear("line", "U2")
        assert await uow.conversations.get("line", "U2", now) is None
        assert await uow.conversations.get("line", "U3", now) is held[1]
        with contextlib.suppress(RuntimeError):
            async with uow.savepoint():
                await uow.conversations.clear("line", "U3")
                raise RuntimeError("the event failed")
        undone = await uow.conversations.get("line", "U3", now)
        assert undone is not None
        assert undone.step == "name"
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.conversations.get("line", "U2", now) is None
