"""Migration 0022 on a database the app used at 0021: its sales and a sale waiting for an
owner keep their receipts, and afterwards another branch's till may print the same numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from storage.db import is_sqlite
from storage.migrate import alembic_config, current_revision, downgrade, upgrade
from tests.storage.migration_support import scratch_engine
from tests.unit.sales_support import approvals, sales
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


@pytest.mark.db
async def test_sales_at_0021_keep_their_receipts_and_another_branch_may_reuse_them(
    database_url: str, tmp_path: Path, settings: Settings, clock: FrozenClock
) -> None:
    async with scratch_engine(database_url, tmp_path, "0022app") as engine:
        await upgrade(engine)
        app = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
        await ensure_branches(app, ("asoke", "sukhumvit"))
        asoke = await staff_chat(app, "ca", "cashier", "asoke", language_code="en")
        ploy = await make_member(app, "Ploy", "081-111-0001")
        await asoke.say(f"/sale {ploy.member_code} 100 receipt=R-1")
        await asoke.say(f"/sale {ploy.member_code} 25000 receipt=R-2")  # over the cap: waits
        await downgrade(engine, "0021")
        await upgrade(engine)
        assert (
            await current_revision(engine)
            == ScriptDirectory.from_config(alembic_config()).get_current_head()
        )
        if is_sqlite(database_url):
            async with engine.connect() as connection:
                broken = await connection.exec_driver_sql("PRAGMA foreign_key_check")
                assert broken.fetchall() == []
        sukhumvit = await staff_chat(app, "cs", "cashier", "sukhumvit", language_code="en")
        await sukhumvit.say(f"/sale {ploy.member_code} 100 receipt=R-1")
        await sukhumvit.say(f"/sale {ploy.member_code} 25000 receipt=R-2")
        await asoke.say(f"/sale {ploy.member_code} 100 receipt=R-1")  # Asoke's again: a replay
        assert sorted(sale.receipt_no for sale in await sales(app)) == ["R-1", "R-1"]
        assert sorted(row.receipt_no for row in await approvals(app)) == ["R-2", "R-2"]
