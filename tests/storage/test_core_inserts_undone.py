"""A row a Core INSERT wrote joins the session as stored; a savepoint that rolls the INSERT back
takes its object out of the session again (storage/core_writes.py). Left in, on SQLite — which
gives the next INSERT the same id — the next row's object was refused as a second one of that
id, and the event after a refused one in a group-commit batch crashed with it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.bootstrap import App
from storage.models import Sale
from storage.raw_session import session_of
from tests.unit.staff_support import ensure_branch, make_member


class _Undone(Exception):
    """What the savepoint's block raises to be undone."""


def _sale(receipt: str, member_id: int, branch_id: int, app: App) -> Sale:
    return Sale(
        receipt_no=receipt,
        member_id=member_id,
        branch_id=branch_id,
        amount=Decimal("120.00"),
        occurred_at=app.clock.now(),
        categories=None,
        used_coupon=False,
        staff_id=None,
        voided_at=None,
        voided_by_staff_id=None,
        source="test",
    )


async def _written_then_undone(uow: Any, sale: Sale) -> None:
    async with uow.savepoint():
        assert await uow.sales.add_unless_taken(sale)
        raise _Undone


async def test_a_sale_undone_by_its_savepoint_leaves_the_session_and_the_next_is_written(
    app: App,
) -> None:
    member = await make_member(app)
    branch_id = await ensure_branch(app, "asoke")
    undone = _sale("R-1", member.id, branch_id, app)
    async with app.uow() as uow:
        with pytest.raises(_Undone):
            await _written_then_undone(uow, undone)
        assert undone not in session_of(uow)
        kept = _sale("R-2", member.id, branch_id, app)
        assert await uow.sales.add_unless_taken(kept)  # SQLite: the same id as the undone one
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.sales.by_receipt("R-1", branch_id) is None
        stored = await uow.sales.by_receipt("R-2", branch_id)
        assert stored is not None
        assert stored.id == kept.id
