"""Helpers for the feedback, inbox and digest tests: sales rows, a dispatcher with recording
fake channels, threads and their messages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from storage.models import Feedback, InboxMessage, InboxThread, Sale
from storage.raw_session import session_of
from tests.unit.dispatcher_support import FakeLine, FakeTelegram
from tests.unit.staff_support import ensure_branch


async def add_sale(
    app: App,
    member_id: int | None,
    branch_code: str,
    at: datetime,
    amount: str = "250.00",
    *,
    voided: bool = False,
) -> int:
    branch_id = await ensure_branch(app, branch_code)
    async with app.uow() as uow:
        sale = Sale(
            receipt_no=f"R{at.timestamp():.0f}-{member_id}-{branch_code}",
            member_id=member_id,
            branch_id=branch_id,
            amount=Decimal(amount),
            occurred_at=at,
            voided_at=at if voided else None,
        )
        session_of(uow).add(sale)
        await uow.flush()
        sale_id = sale.id
        await uow.commit()
    return sale_id


def dispatcher(app: App) -> tuple[OutboxDispatcher, FakeTelegram, FakeLine]:
    telegram, line = FakeTelegram(), FakeLine()
    channels = {Channel.TELEGRAM: telegram, Channel.LINE: line}
    return OutboxDispatcher(app.uow, app.clock, channels), telegram, line


async def feedback_rows(app: App) -> list[Feedback]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(Feedback).order_by(Feedback.id))
        return list(result.scalars().all())


async def threads(app: App) -> list[InboxThread]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(InboxThread).order_by(InboxThread.id))
        return list(result.scalars().all())


async def thread_messages(app: App, thread_id: int) -> list[InboxMessage]:
    async with app.uow() as uow:
        return list(await uow.inbox.messages(thread_id))
