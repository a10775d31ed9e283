"""Migration 0020: chat accounts get ``reachability_at`` (when the person did what their
reachable flag last followed), NULL for the accounts there are (not known: their next event
counts as newer); their rows come through, both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.migrate import current_revision, downgrade, upgrade
from tests.storage.migration_support import scratch_engine

_ROWS = "SELECT user_id, reachable FROM channel_identities ORDER BY id"


async def _accounts_at_0019(connection: AsyncConnection) -> None:
    for user_id, reachable in (("U1", True), ("U2", False)):
        await connection.execute(
            text(
                "INSERT INTO channel_identities (channel, user_id, reachable, first_seen_at, "
                "last_seen_at) VALUES ('line', :u, :r, '2026-01-02 00:00:00', "
                "'2026-01-02 00:00:00')"
            ),
            {"u": user_id, "r": reachable},
        )


async def _rows(connection: AsyncConnection) -> list[tuple[Any, ...]]:
    return [(user_id, bool(flag)) for user_id, flag in await connection.execute(text(_ROWS))]


@pytest.mark.db
async def test_0020_keeps_the_accounts_with_no_time_known(
    database_url: str, tmp_path: Path
) -> None:
    async with scratch_engine(database_url, tmp_path, "0020") as engine:
        await upgrade(engine, "0019")
        async with engine.begin() as connection:
            await _accounts_at_0019(connection)
        await upgrade(engine, "0020")
        assert await current_revision(engine) == "0020"
        async with engine.connect() as connection:
            assert await _rows(connection) == [("U1", True), ("U2", False)]
            times = await connection.execute(text("SELECT reachability_at FROM channel_identities"))
            assert times.scalars().all() == [None, None]
        await downgrade(engine, "0019")
        assert await current_revision(engine) == "0019"
        async with engine.connect() as connection:
            assert await _rows(connection) == [("U1", True), ("U2", False)]
