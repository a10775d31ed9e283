"""Migration 0019: on SQLite the chat accounts and the inbox are rebuilt with AUTOINCREMENT, so
no id is ever given twice; their rows and the foreign keys between them come through intact,
and the first new ids come after those that kept rows still name (outbox keys, audit actors of
rows an erasure deleted before the upgrade). On PostgreSQL it changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import is_sqlite
from storage.migrate import current_revision, downgrade, upgrade
from tests.storage.migration_support import scratch_engine


async def _insert(connection: AsyncConnection, sql: str, **values: Any) -> int:
    return int((await connection.execute(text(f"{sql} RETURNING id"), values)).scalar_one())


async def _account(connection: AsyncConnection, user_id: str, member_id: int | None) -> int:
    return await _insert(
        connection,
        "INSERT INTO channel_identities (channel, user_id, member_id, display_name, reachable, "
        "first_seen_at, last_seen_at) VALUES ('telegram', :u, :m, :u, true, "
        "'2026-01-02 00:00:00', '2026-01-02 00:00:00')",
        u=user_id,
        m=member_id,
    )


async def _thread(connection: AsyncConnection, identity_id: int) -> int:
    return await _insert(
        connection,
        "INSERT INTO inbox_threads (identity_id, status, opened_at, last_message_at) "
        "VALUES (:i, 'open', '2026-01-02 00:00:00', '2026-01-02 00:00:00')",
        i=identity_id,
    )


async def _message(connection: AsyncConnection, thread_id: int, identity_id: int, say: str) -> int:
    return await _insert(
        connection,
        "INSERT INTO inbox (thread_id, identity_id, text, status, received_at, direction) "
        "VALUES (:th, :i, :x, 'open', '2026-01-02 00:00:00', 'in')",
        th=thread_id,
        i=identity_id,
        x=say,
    )


async def _shop_at_0018(connection: AsyncConnection) -> tuple[int, int, int]:
    """A member with a chat account and a thread of two messages; a stranger's account; and
    what an erasure before the upgrade kept: a sent alert's key naming thread 40 and message
    90, an audit row of a code throttle naming chat account 70."""
    member = await _insert(
        connection,
        "INSERT INTO members (member_code, locale, joined_at, marketing_opt_in) "
        "VALUES ('AAAA2222', 'th', '2026-01-02 00:00:00', false)",
    )
    ploy = await _account(connection, "m1", member)
    await _account(connection, "s1", None)
    thread = await _thread(connection, ploy)
    for say in ("hello", "call me"):
        await _message(connection, thread, ploy, say)
    await connection.execute(
        text(
            "INSERT INTO outbox (dedupe_key, channel, user_id, payload, status, attempts, "
            "not_before, created_at, promotional, priority) VALUES ('inbox:40:a90|s1', "
            "'telegram', 'own1', '{}', 'sent', 1, '2026-01-02 00:00:00', "
            "'2026-01-02 00:00:00', false, 0)"
        ),
    )
    await connection.execute(
        text(
            "INSERT INTO audit_log (actor, action, details, created_at) "
            "VALUES ('identity:70', 'link.failed', '{}', '2026-01-02 00:00:00')"
        ),
    )
    return member, ploy, thread


async def _rows(connection: AsyncConnection) -> list[tuple[Any, ...]]:
    found = await connection.execute(
        text(
            "SELECT i.user_id, i.member_id, t.id, m.text FROM inbox m "
            "JOIN inbox_threads t ON t.id = m.thread_id "
            "JOIN channel_identities i ON i.id = m.identity_id ORDER BY m.id"
        )
    )
    return [tuple(row) for row in found]


@pytest.mark.db
async def test_0019_keeps_the_rows_and_keys_and_never_gives_a_named_id_again(
    database_url: str, tmp_path: Path
) -> None:
    async with scratch_engine(database_url, tmp_path, "0019") as engine:
        await upgrade(engine, "0018")
        async with engine.begin() as connection:
            member, ploy, thread = await _shop_at_0018(connection)
            before = await _rows(connection)
        await upgrade(engine, "0019")
        assert await current_revision(engine) == "0019"
        async with engine.begin() as connection:
            assert await _rows(connection) == before
            assert before == [("m1", member, thread, "hello"), ("m1", member, thread, "call me")]
            nok = await _account(connection, "m2", None)
            new_thread = await _thread(connection, nok)
            new_message = await _message(connection, new_thread, nok, "do you deliver?")
        if is_sqlite(database_url):  # above the ids the kept rows name
            assert nok > 70
            assert new_thread > 40
            assert new_message > 90
        else:
            assert nok > ploy
        with pytest.raises(IntegrityError):  # the foreign keys hold after the rebuild
            async with engine.begin() as connection:
                await _message(connection, new_thread, nok + 1000, "nobody")


@pytest.mark.db
async def test_0019_goes_down_and_up_again_with_the_rows(database_url: str, tmp_path: Path) -> None:
    async with scratch_engine(database_url, tmp_path, "0019") as engine:
        await upgrade(engine, "0018")
        async with engine.begin() as connection:
            await _shop_at_0018(connection)
            before = await _rows(connection)
        await upgrade(engine)
        await downgrade(engine, "0018")
        assert await current_revision(engine) == "0018"
        async with engine.connect() as connection:
            assert await _rows(connection) == before
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await _rows(connection) == before
