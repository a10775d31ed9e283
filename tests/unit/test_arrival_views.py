"""The arrival read as plain values: the common events make no ORM object of their author,
and a handler that asks for one gets the session's own (storage/repositories/arrival.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot.bootstrap import App
from bot.core.messages import Channel
from storage.models import ChannelIdentity, ConversationState, Member, Staff, table_of
from storage.raw_session import session_of
from storage.repositories.arrival import IdentityView, MemberView, StaffView, StateView
from tests.chat import Chat
from tests.unit.journey_support import join, only_member
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

_AUTHOR = (ChannelIdentity, Member, Staff, ConversationState)


@contextlib.contextmanager
def entities_made() -> Iterator[list[object]]:
    """Every ORM object a session loads or attaches while the block runs."""
    made: list[object] = []

    def _made(_session: Session, instance: object) -> None:
        made.append(instance)

    for name in ("loaded_as_persistent", "detached_to_persistent"):
        event.listen(Session, name, _made)
    try:
        yield made
    finally:
        for name in ("loaded_as_persistent", "detached_to_persistent"):
            event.remove(Session, name, _made)


def _authors(made: list[object], user_id: str = "u1") -> list[str]:
    """The classes of the objects in ``made`` that are ``user_id``'s own rows (or a member's)."""
    return [
        type(row).__name__
        for row in made
        if isinstance(row, _AUTHOR) and getattr(row, "user_id", user_id) == user_id
    ]


async def test_points_card_and_a_question_make_no_orm_object_of_their_author(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    for said in ("/points", "/card", "Are you open on Sunday?", "Still there?"):
        with entities_made() as made:
            replies = await chat.say(said)
        assert said == "Still there?" or replies
        assert _authors(made) == [], said


async def test_a_menu_button_to_points_makes_no_orm_object_of_its_author(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    with entities_made() as made:
        replies = await chat.press("cmd:points")

    assert replies
    assert _authors(made) == []


async def test_a_sale_makes_no_orm_object_of_the_cashier(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", name="Nok")
    await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    with entities_made() as made:
        replies = await cashier.say("/sale 081-234-5678 260 receipt=R1")

    assert replies
    # the sale's member is loaded (its balance moves), and its chat account (the receipt's
    # addressee); the cashier's own rows are not
    assert [name for name in _authors(made, "c1") if name != "Member"] == []


async def test_an_object_made_from_the_arrival_is_the_one_later_queries_return(app: App) -> None:
    await join(Chat(app))
    member = await only_member(app)
    async with app.uow() as uow:
        arrival = await uow.identities.arrive("telegram", "u1", app.clock.now())
        assert arrival.member is not None
        made = uow.identities.materialiser.held(Member, arrival.member)
        loaded = await uow.members.get(member.id)
        found = (await session_of(uow).execute(select(Member))).scalars().one()
        made.name = "Ploy P."
        await uow.commit()

    assert loaded is made
    assert found is made
    assert (await only_member(app)).name == "Ploy P."  # the unit of work saw the change


async def test_an_object_the_session_holds_is_the_one_the_arrival_hands_over(app: App) -> None:
    await join(Chat(app))
    member = await only_member(app)
    async with app.uow() as uow:
        held = await uow.members.get(member.id)
        arrival = await uow.identities.arrive("telegram", "u1", app.clock.now())
        assert arrival.member is not None
        assert held is not None
        session_of(uow).expire(held)  # as a rolled-back savepoint leaves it
        made = uow.identities.materialiser.held(Member, arrival.member)
        name = made.name  # filled from the values read: no load (it would need a greenlet)

    assert made is held
    assert name == member.name


async def test_unfollow_marks_the_account_unreachable_and_a_held_copy_shows_it(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    await chat.unfollow()
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "u1")
        assert identity is not None
        assert identity.reachable is False
        arrival = await uow.identities.arrive("telegram", "u1", app.clock.now())
        later = app.clock.now() + timedelta(seconds=1)  # after the unfollow kept its time
        back = await uow.identities.set_reachable(arrival.identity, True, later)
        await uow.commit()

    assert back.reachable is True
    assert identity.reachable is True
    async with app.uow() as uow:
        again = await uow.identities.get("telegram", "u1")
        assert again is not None
        assert again.reachable is True


async def test_a_change_of_reachability_older_than_the_kept_one_is_not_written(app: App) -> None:
    """Two events of one person handled at once: the older, written second, changes nothing
    even when its view of the account was read before the newer one was written."""
    chat = Chat(app)
    await join(chat)
    now = app.clock.now()
    async with app.uow() as uow:
        arrival = await uow.identities.arrive("telegram", "u1", now)
        stale = arrival.identity
        newer = await uow.identities.set_reachable(stale, True, now + timedelta(minutes=10))
        await uow.identities.set_reachable(stale, False, now + timedelta(minutes=5))
        await uow.commit()
    async with app.uow() as uow:
        kept = await uow.identities.get("telegram", "u1")
        assert kept is not None
        assert kept.reachable is True
        assert kept.reachability_at == newer.reachability_at


async def test_an_event_sees_what_an_earlier_event_of_its_batch_left_unflushed(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    member = await only_member(app)
    now = app.clock.now()
    async with app.uow() as uow:
        first = await uow.identities.arrive("telegram", "u1", now)
        identity = uow.identities.materialiser.held(ChannelIdentity, first.identity)
        identity.chosen_locale = "en"  # an earlier event's change, not flushed yet
        second = await uow.identities.arrive("telegram", "u1", now + timedelta(minutes=10))

    assert second.identity.chosen_locale == "en"
    assert second.member is not None
    assert second.member.id == member.id
    assert Channel.TELEGRAM.value == second.identity.channel


async def test_the_sign_up_steps_that_only_read_make_no_orm_object_of_their_author(
    app: App,
) -> None:
    chat = Chat(app)
    steps = [
        (chat.say, "/start"),
        (chat.press, "su:join"),
        (chat.press, "su:mkt:yes"),
        (chat.say, "Ploy"),
        (chat.say, "081-234-5678"),
        (chat.say, "01/05/2530"),
    ]
    for send, what in steps:
        with entities_made() as made:
            replies = await send(what)
        assert replies, what
        assert _authors(made) == [], what


async def test_the_same_events_on_line_make_no_orm_object_of_their_author(app: App) -> None:
    user = "U" + "a" * 32
    chat = Chat(app, user_id=user, channel=Channel.LINE)
    await join(chat)
    for said in ("/points", "/card", "Are you open on Sunday?"):
        with entities_made() as made:
            await chat.say(said)
        assert _authors(made, user) == [], said
    with entities_made() as made:
        await chat.press("cmd:points")
    assert _authors(made, user) == []


def test_each_view_holds_every_column_of_its_table() -> None:
    """A session object made from a view (``Materialiser.held``) has every column loaded only
    if the view has them all: a column added to a table and not to its view would be left
    unloaded, and reading it would load lazily outside the event loop's greenlet."""
    views = (
        (ChannelIdentity, IdentityView),
        (Member, MemberView),
        (Staff, StaffView),
        (ConversationState, StateView),
    )
    for model, view in views:
        assert view._fields == tuple(table_of(model).c.keys()), model.__name__
