"""How many staff alerts a thread had lately: only its own keys count, read by the key's index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage import direct
from storage.along import positional


async def _queue(app: App, key: str) -> None:
    async with app.uow() as uow:
        await uow.outbox.enqueue(key, "telegram", "1", {"v": 1, "replies": []}, app.clock.now())
        await uow.commit()


async def test_alerts_since_counts_the_threads_own_recent_alerts(
    app: App, clock: FrozenClock
) -> None:
    await _queue(app, "inbox:1:a1|s1")  # before the window
    clock.advance(timedelta(minutes=20))
    since = clock.now()
    for key in ("inbox:1:a2|s1", "inbox:1:a2|s2", "inbox:10:a3|s1", "inbox:1:b", "inbox:1:"):
        await _queue(app, key)
    async with app.uow() as uow:
        assert await uow.inbox.alerts_since("inbox:1:a", since) == 2
        assert await uow.inbox.alerts_since("inbox:10:a", since) == 1
        assert await uow.inbox.alerts_since("inbox:2:a", since) == 0


async def test_alerts_since_does_not_scan_the_outbox_on_sqlite(app: App) -> None:
    if app.engine.dialect.name != "sqlite":
        return  # PostgreSQL: the LIKE alone (a key range is exact only under the C collation)
    seen: list[tuple[str, Any]] = []
    sent = direct.rows

    async def keep(session: Any, statement: Any, values: Any) -> Any:
        if "count(" in str(statement):
            seen.append(positional(statement, app.engine.dialect, values))
        return await sent(session, statement, values)

    with patch.object(direct, "rows", keep):
        async with app.uow() as uow:
            await uow.inbox.alerts_since("inbox:1:a", app.clock.now())
    (sql, params), *_ = seen
    async with app.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        cursor = await driver.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
        await cursor.close()
    assert "SCAN outbox" not in plan, plan
