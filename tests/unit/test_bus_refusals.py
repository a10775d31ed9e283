"""A handler's domain error undoes its own writes only: the event and its author's arrival stay."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.errors import InvalidInput
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from bot.i18n import t
from handlers.context import Context
from handlers.router import Audience, Command, Router
from storage.models import ChannelIdentity, ContactEvent, PointsEntry, ProcessedEvent
from storage.raw_session import session_of
from tests.unit.journey_support import count_rows
from tests.unit.staff_support import make_member


async def _credit_then_refuse(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 5, "test", ctx.now)
    ctx.begin("half", "done")  # conversation state is the handler's write too
    raise InvalidInput()


async def _credit(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 5, "test", ctx.now)
    return [Reply(text="credited")]


def _router() -> Router:
    router = Router()
    router.command(Command("refuse", _credit_then_refuse, Audience.ANYONE))
    router.command(Command("credit", _credit, Audience.ANYONE))
    return router


def _text(event_id: str, text: str, kind: InboundKind = InboundKind.TEXT) -> Inbound:
    return Inbound(
        identity=Identity(Channel.TELEGRAM, "700"),
        kind=kind,
        received_at=datetime(2026, 3, 3, tzinfo=UTC),
        event_id=event_id,
        text=text,
    )


async def test_a_refused_request_keeps_none_of_the_handlers_writes(app: App) -> None:
    member = await make_member(app, user_id="700", points=0)
    app.bus.router = _router()

    replies = await app.bus.handle(_text("tg:r1", "/refuse"))

    assert [reply.text for reply in replies] == [t(member.locale, "error.invalid_input")]
    async with app.uow() as uow:
        stored = await session_of(uow).execute(
            select(PointsEntry.reason).where(PointsEntry.member_id == member.id)
        )
        assert "test" not in stored.scalars().all()
        assert await uow.conversations.get("telegram", "700", app.clock.now()) is None


async def test_a_refused_request_delivered_again_has_no_second_effect(app: App) -> None:
    await make_member(app, user_id="700", points=0)
    app.bus.router = _router()
    await app.bus.handle(_text("tg:r2", "/refuse"))
    app.bus.router.commands["refuse"] = Command("refuse", _credit, Audience.ANYONE)

    again = await app.bus.handle(_text("tg:r2", "/refuse"))  # would now succeed: must not run

    assert again == []
    assert await count_rows(app, ProcessedEvent) == 1
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            select(PointsEntry).where(PointsEntry.reason == "test")
        )
        assert rows.scalars().all() == []


async def _refuse(ctx: Context) -> list[Reply]:
    raise InvalidInput()


async def test_a_refused_first_message_still_creates_its_author(app: App) -> None:
    app.bus.router = Router()
    app.bus.router.command(Command("refuse", _refuse, Audience.ANYONE))

    await app.bus.handle(_text("tg:r3", "/refuse"))

    assert await count_rows(app, ChannelIdentity) == 1
    assert await count_rows(app, ProcessedEvent) == 1


async def test_a_refused_request_from_someone_who_came_back_marks_them_reachable(
    app: App,
) -> None:
    member = await make_member(app, user_id="700", points=0)
    app.bus.router = _router()
    await app.bus.handle(_text("tg:r4", "", InboundKind.UNFOLLOW))

    await app.bus.handle(_text("tg:r5", "/refuse"))

    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "700")
        kinds = await session_of(uow).execute(
            select(ContactEvent.kind)
            .where(ContactEvent.member_id == member.id)
            .order_by(ContactEvent.id)
        )
        assert identity is not None
        assert identity.reachable
        assert kinds.scalars().all() == ["blocked", "unblocked"]
