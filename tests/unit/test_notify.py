"""notify_member / notify_staff: who gets a message, on which account, in which language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from bot.core.wire import payload_to_replies
from handlers.bus import Bus
from handlers.context import Context
from handlers.notify import notify_member, notify_staff
from handlers.router import Router
from jobs.dispatcher import OutboxDispatcher
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.storage.outbox_support import add_branch, add_member, add_staff
from tests.unit.dispatcher_support import FakeLine, FakeTelegram, Push


@asynccontextmanager
async def _handler_context(app: App) -> AsyncIterator[Context]:
    """What a cashier's handler gets; committed when the block ends without an error."""
    async with app.uow() as uow:
        now = app.clock.now()
        identity = await uow.identities.touch("telegram", "cashier", now)
        yield Context(
            inbound=Inbound(Identity(Channel.TELEGRAM, "cashier"), InboundKind.TEXT, now),
            uow=uow,
            identity=identity,
            member=None,
            state=None,
            clock=app.clock,
            settings=app.settings,
            locale="th",
        )
        await uow.commit()


async def _queued(app: App) -> list[OutboxMessage]:
    async with app.uow() as uow:
        rows = await session_of(uow).execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.scalars().all())


def _texts(row: OutboxMessage) -> list[str]:
    return [reply.text for reply in payload_to_replies(row.payload)]


async def test_member_is_written_on_the_reachable_account_seen_last(
    app: App, clock: FrozenClock
) -> None:
    earlier, later = clock.now() - timedelta(days=2), clock.now() - timedelta(hours=1)
    member = await add_member(app, [("telegram", "10", earlier), ("line", "U10", later)])
    async with _handler_context(app) as ctx:
        assert await notify_member(ctx, member, [Reply(text="receipt")], "sale:R1:receipt")
    [row] = await _queued(app)
    assert (row.channel, row.user_id, row.member_id, row.promotional) == (
        "line",
        "U10",
        member,
        False,
    )
    assert _texts(row) == ["receipt"]


async def test_a_blocked_account_is_passed_over_for_the_other_one(
    app: App, clock: FrozenClock
) -> None:
    earlier, later = clock.now() - timedelta(days=2), clock.now() - timedelta(hours=1)
    member = await add_member(app, [("telegram", "10", earlier), ("line", "U10", later)])
    async with app.uow() as uow:
        line = await uow.identities.get("line", "U10")
        assert line is not None
        line.reachable = False
        await uow.commit()
    async with _handler_context(app) as ctx:
        await notify_member(ctx, member, [Reply(text="receipt")], "k")
    assert [(r.channel, r.user_id) for r in await _queued(app)] == [("telegram", "10")]


async def test_member_without_a_reachable_account_gets_nothing_and_false(
    app: App, clock: FrozenClock
) -> None:
    imported = await add_member(app, [])
    async with _handler_context(app) as ctx:
        assert not await notify_member(ctx, imported, [Reply(text="receipt")], "k")
    assert await _queued(app) == []


async def test_the_same_key_twice_queues_one_message(app: App, clock: FrozenClock) -> None:
    member = await add_member(app, [("telegram", "10", clock.now())])
    for _ in range(2):
        async with _handler_context(app) as ctx:
            assert await notify_member(ctx, member, [Reply(text="hi")], "coupon:C1:used")
    assert len(await _queued(app)) == 1


async def test_promotional_messages_are_flagged(app: App, clock: FrozenClock) -> None:
    member = await add_member(app, [("telegram", "10", clock.now())])
    async with _handler_context(app) as ctx:
        await notify_member(ctx, member, [Reply(text="1 get 1")], "cmp:1", promotional=True)
    assert [row.promotional for row in await _queued(app)] == [True]


async def test_staff_of_the_branch_and_of_no_branch_with_the_roles_are_told(app: App) -> None:
    asoke, ratchada = await add_branch(app, "asoke"), await add_branch(app, "ratchada")
    await add_staff(app, "telegram", "owner", "owner")
    await add_staff(app, "line", "U-asoke-mgr", "manager", asoke)
    await add_staff(app, "telegram", "ratchada-mgr", "manager", ratchada)
    await add_staff(app, "telegram", "cashier", "cashier", asoke)
    await add_staff(app, "telegram", "gone", "owner", active=False)
    async with _handler_context(app) as ctx:
        count = await notify_staff(
            ctx,
            lambda locale: [Reply(text=f"approve? ({locale})")],
            "approval:1:ask",
            roles={"owner", "manager"},
            branch_id=asoke,
        )
    rows = await _queued(app)
    assert count == 2
    assert [(r.channel, r.user_id) for r in rows] == [
        ("telegram", "owner"),
        ("line", "U-asoke-mgr"),
    ]


async def test_each_staff_member_reads_in_their_own_language(app: App, clock: FrozenClock) -> None:
    await add_member(app, [("telegram", "owner-en", clock.now())], locale="en")
    await add_staff(app, "telegram", "owner-en", "owner")
    await add_staff(app, "telegram", "owner-th", "owner")
    async with _handler_context(app) as ctx:
        await notify_staff(ctx, lambda locale: [Reply(text=locale)], "k", roles={"owner"})
    assert [(r.user_id, _texts(r)) for r in await _queued(app)] == [
        ("owner-en", ["en"]),
        ("owner-th", ["th"]),
    ]


async def test_staff_who_blocked_the_bot_are_skipped(app: App, clock: FrozenClock) -> None:
    await add_staff(app, "telegram", "owner", "owner")
    async with app.uow() as uow:
        identity = await uow.identities.touch("telegram", "owner", clock.now())
        identity.reachable = False
        await uow.commit()
    async with _handler_context(app) as ctx:
        assert await notify_staff(ctx, lambda _: [Reply(text="x")], "k", roles={"owner"}) == 0


async def test_a_rerun_for_the_same_cause_tells_staff_nothing_new(app: App) -> None:
    await add_staff(app, "telegram", "owner", "owner")
    counts = []
    for _ in range(2):
        async with _handler_context(app) as ctx:
            counts.append(
                await notify_staff(ctx, lambda _: [Reply(text="x")], "k", roles={"owner"})
            )
    assert counts == [1, 0]
    assert len(await _queued(app)) == 1


async def test_the_bus_wakes_the_dispatcher_after_a_commit_that_notified(
    app: App, clock: FrozenClock
) -> None:
    member = await add_member(app, [("line", "U-member", clock.now())])

    async def record_sale(ctx: Context) -> list[Reply]:
        if ctx.inbound.text == "sale":
            await notify_member(ctx, member, [Reply(text="+40 points")], "sale:R9:receipt")
        return [Reply(text="recorded")]

    bus = Bus(app.uow, Router(fallback=record_sale), clock, app.settings)
    line, kicks = FakeLine(), []
    dispatcher = OutboxDispatcher(
        app.uow, clock, {Channel.LINE: line, Channel.TELEGRAM: FakeTelegram()}
    )
    bus.on_commit = lambda: kicks.append(dispatcher.kick)
    cashier = Identity(Channel.TELEGRAM, "cashier")
    await bus.handle(Inbound(cashier, InboundKind.TEXT, clock.now(), "tg:1", text="hello"))
    assert kicks == []
    await bus.handle(Inbound(cashier, InboundKind.TEXT, clock.now(), "tg:2", text="sale"))
    assert len(kicks) == 1
    await dispatcher.drain_once()
    [row] = await _queued(app)
    assert line.pushes == [Push("U-member", ["+40 points"], row.retry_key)]
