"""Sales above a cashier's daily cap waiting for an owner, and the day's totals the cap is
checked against. Never commits: the unit of work does."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Sale, SaleApproval, Staff

_CENT: Final = Decimal("0.01")


class SaleApprovals:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def hold_cashier(self, staff_id: int) -> None:
        """Lock ``staff_id``'s row until the transaction ends, so one cashier's cap check and the
        sale (or approval request) it leads to happen one at a time: a second sale of the same
        cashier waits here and then sees the first one's total. ``FOR NO KEY UPDATE`` does not
        block rows that only refer to the cashier (an owner approving their sale). SQLite needs
        no lock: ``BEGIN IMMEDIATE`` already runs one writer at a time."""
        await self._s.execute(
            select(Staff.id).where(Staff.id == staff_id).with_for_update(key_share=True)
        )

    async def recorded_by(self, staff_id: int, start: datetime, end: datetime) -> Decimal:
        """Non-voided sales ``staff_id`` recorded in ``[start, end)``, in baht (0 for none)."""
        result = await self._s.execute(
            select(func.coalesce(func.sum(Sale.__table__.c.amount), 0)).where(
                Sale.staff_id == staff_id,
                Sale.voided_at.is_(None),
                Sale.occurred_at >= start,
                Sale.occurred_at < end,
            )
        )
        return Decimal(result.scalar_one()).quantize(_CENT)

    async def add(self, approval: SaleApproval) -> SaleApproval:
        """Store a new request; its id is set when this returns."""
        self._s.add(approval)
        await self._s.flush()
        return approval

    async def get(self, approval_id: int) -> SaleApproval | None:
        return await self._s.get(SaleApproval, approval_id)

    async def by_receipt(self, receipt_no: str, branch_id: int) -> SaleApproval | None:
        """The request (of any status) for a receipt number at a branch; each branch's till
        numbers its own receipts."""
        result = await self._s.execute(
            select(SaleApproval).where(
                SaleApproval.receipt_no == receipt_no, SaleApproval.branch_id == branch_id
            )
        )
        return result.scalar_one_or_none()

    async def decide(
        self, approval: SaleApproval, status: str, staff_id: int, now: datetime
    ) -> bool:
        """Set ``status`` on a still-pending request: True for exactly one caller, so a
        double-tapped button decides once. ``approval`` is reloaded either way, so it shows
        the status that stands."""
        decided = await self._s.execute(
            update(SaleApproval)
            .where(SaleApproval.id == approval.id, SaleApproval.status == "pending")
            .values(status=status, decided_by_staff_id=staff_id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        await self._s.refresh(approval)
        return bool(decided.rowcount == 1)  # type: ignore[attr-defined]
