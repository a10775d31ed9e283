"""Migration 0023 on a shop whose receipts were kept as typed: each receipt takes its capitals
(``/void inv-1`` finds it, ``/sale receipt=INV-1`` is a replay), and receipts one branch holds
in two cases (recorded as two sales before) are kept both, the first in capitals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from storage.migrate import downgrade, upgrade
from tests.storage.migration_support import scratch_engine
from tests.unit.sales_support import approvals, sales
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

#: stored at 0022 (the text before 0023 wrote it as typed) -> the same row after 0023
_TYPED = {
    "T-1": ("inv-1", "INV-1"),  # alone: takes its capitals
    "T-2": ("B-1", "B-1"),  # B-1 and b-1 at one branch: two sales, kept both
    "T-3": ("b-1", "b-1"),
    "T-4": ("ex-1", "EX-1"),  # neither in capitals: the first takes them
    "T-5": ("Ex-1", "Ex-1"),
}


@pytest.mark.db
async def test_receipts_kept_as_typed_take_their_capitals_and_no_two_collide(
    database_url: str, tmp_path: Path, settings: Settings, clock: FrozenClock
) -> None:
    async with scratch_engine(database_url, tmp_path, "0023app") as engine:
        await upgrade(engine)
        app = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
        branches = await ensure_branches(app, ("asoke", "sukhumvit"))
        asoke = await staff_chat(app, "ca", "manager", "asoke", language_code="en")
        sukhumvit = await staff_chat(app, "cs", "cashier", "sukhumvit", language_code="en")
        cashier = await staff_chat(app, "cc", "cashier", "asoke", language_code="en")
        ploy = await make_member(app, "Ploy", "081-111-0001")
        for receipt in _TYPED:
            await asoke.say(f"/sale {ploy.member_code} 100 receipt={receipt}")
        await sukhumvit.say(f"/sale {ploy.member_code} 100 receipt=T-1")  # its own till's
        await cashier.say(f"/sale {ploy.member_code} 25000 receipt=T-9")  # over the cap: waits
        await downgrade(engine, "0022")
        async with engine.begin() as connection:
            for receipt, (typed, _) in _TYPED.items():
                await connection.execute(
                    text(
                        "UPDATE sales SET receipt_no = :typed WHERE receipt_no = :receipt "
                        "AND branch_id = (SELECT id FROM branches WHERE code = 'asoke')"
                    ),
                    {"typed": typed, "receipt": receipt},
                )
            await connection.execute(text("UPDATE sale_approvals SET receipt_no = 'r-9'"))
        await upgrade(engine)
        at_asoke = {s.receipt_no for s in await sales(app) if s.branch_id == branches["asoke"]}
        assert at_asoke == {after for _, after in _TYPED.values()}
        assert [s.receipt_no for s in await sales(app)].count("T-1") == 1  # Sukhumvit's
        assert [row.receipt_no for row in await approvals(app)] == ["R-9"]
        await asoke.say(f"/sale {ploy.member_code} 100 receipt=Inv-1")
        assert "already recorded" in asoke.text(), asoke.text()
        await asoke.say("/void inv-1")
        voided = [s for s in await sales(app) if s.receipt_no == "INV-1"]
        assert [s.voided_at is not None for s in voided] == [True], asoke.text()
