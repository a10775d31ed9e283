"""Migration 0019 on a database the app used at 0018: a stranger who wrote, was answered by
an alert to staff, and erased themselves before the upgrade. After it the foreign keys all
hold, and the next stranger's first text opens a thread whose staff alert is sent (its key
not taken by the erased stranger's alert, whose ids SQLite gave before AUTOINCREMENT)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from storage.db import is_sqlite
from storage.migrate import alembic_config, current_revision, downgrade, upgrade
from tests.chat import Chat
from tests.storage.inbox_edges_support import box
from tests.storage.migration_support import scratch_engine
from tests.unit.inbox_support import dispatcher
from tests.unit.staff_support import staff_chat


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.mark.db
async def test_an_erasure_at_0018_then_the_upgrade_then_a_new_strangers_text_alerts_staff(
    database_url: str, tmp_path: Path, settings: Settings, clock: FrozenClock
) -> None:
    async with scratch_engine(database_url, tmp_path, "0019app") as engine:
        # today's app reads today's schema: it runs at the head, and the database is then
        # taken down to 0018 with its rows (0019's downgrade gives SQLite back its max(id) + 1)
        await upgrade(engine)
        app = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
        await staff_chat(app, "own1", "owner")
        somchai = Chat(app, user_id="s1", display_name="Somchai")
        await somchai.say("my number is 0812345678")
        disp, telegram, _ = dispatcher(app)
        await disp.drain_once()
        [old_alert] = (await box(app)).alerts
        await somchai.say("/deleteme")
        await somchai.press("del:yes")
        assert (await box(app)).alerts == [old_alert]  # sent: kept, emptied
        await downgrade(engine, "0018")
        await upgrade(engine)
        assert await current_revision(engine) == _head()
        if is_sqlite(database_url):
            async with engine.connect() as connection:
                broken = await connection.exec_driver_sql("PRAGMA foreign_key_check")
                assert broken.fetchall() == []
                on = await connection.exec_driver_sql("PRAGMA foreign_keys")
                assert on.scalar_one() == 1
        nok = Chat(app, user_id="s2", display_name="Nok")
        await nok.say("do you deliver?")
        found = await box(app)
        [thread] = found.open_threads
        assert found.texts(thread) == ["do you deliver?"]
        assert len(found.alerts) == 2, found.alerts
        await disp.drain_once()
        assert [p.user_id for p in telegram.pushes].count("own1") == 2
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT user_id FROM channel_identities"))
            assert rows.scalars().all() == ["s2"]  # the owner never wrote; Somchai's is gone
