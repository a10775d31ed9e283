"""Helpers for the sales, void, adjust and approval tests: stored rows and queued messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.wire import payload_to_replies
from storage.models import OutboxMessage, PointsEntry, Sale, SaleApproval
from storage.raw_session import session_of
from tests.unit.staff_support import outbox_rows


async def _all(app: App, model: type[Any], *where: Any) -> Sequence[Any]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(model).where(*where).order_by(model.id))
        return result.scalars().all()


async def sales(app: App) -> list[Sale]:
    return list(await _all(app, Sale))


async def approvals(app: App) -> list[SaleApproval]:
    return list(await _all(app, SaleApproval))


async def ledger(app: App, member_id: int) -> list[tuple[int, str]]:
    """(delta, reason) of a member's entries, in the order written."""
    rows = await _all(app, PointsEntry, PointsEntry.member_id == member_id)
    return [(row.delta, row.reason) for row in rows]


async def balance(app: App, member_id: int) -> int:
    async with app.uow() as uow:
        return await uow.points.balance(member_id)


def texts(row: OutboxMessage) -> str:
    return "\n".join(reply.text for reply in payload_to_replies(row.payload))


def actions_of(row: OutboxMessage) -> list[str]:
    return [b.action for reply in payload_to_replies(row.payload) for b in reply.buttons]


async def queued(app: App, prefix: str) -> list[OutboxMessage]:
    return await outbox_rows(app, prefix)
