"""Run the Alembic migration chain against an engine (``chatcrm db upgrade``, and ``serve``).

Processes started together on one empty PostgreSQL schema (several ``serve`` behind a balancer,
a ``db upgrade`` beside them) migrate one after another: each upgrade holds a transaction-level
advisory lock of the schema, so the next one waits, then finds the schema at its head and does
nothing. Created together, the same table's types collided in ``pg_type``. On SQLite the
migration's ``BEGIN IMMEDIATE`` already makes them wait.

A database at a revision these migrations do not know was migrated by a newer chatcrm: it is
refused (:class:`NewerSchema`) before anything is run on it.

Migrations pending while another chatcrm server runs on the database are refused too
(:class:`ServerRunning`): the running server's queries are written for the schema it started
on (an older release's ``/sale`` names a unique index that 0022 replaced), so every server is
stopped, the database upgraded, and the servers started again. With nothing pending nothing is
checked: the other commands run beside a server as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import CommandError
from storage.leader_lock import LOCK_CLASS
from storage.sole_server import server_beside

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: first key of the migrations' advisory lock ("MIG" in ASCII; the leader lock's is "CRM"), the
#: second is the schema's hash: one migration at a time per installation schema
MIGRATION_LOCK_CLASS: Final = 0x4D4947
_MIGRATION_LOCK: Final = text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))")
#: the leader lock's key, tried for the migration's transaction: a session that leads holds it
#: (every server on PostgreSQL has one leader among them), so it is refused; granted, it keeps
#: any server from starting to lead on the schema until the migration commits or rolls back,
#: and is let go with the transaction. Atomic, unlike a look at ``pg_locks`` followed by the
#: migration, which a leader could start between.
_LEADER_FREE: Final = text("SELECT pg_try_advisory_xact_lock(:cls, hashtext(current_schema()))")


class NewerSchema(CommandError):
    """The database is at a schema revision this chatcrm does not know: a newer chatcrm
    migrated it. Nothing was changed; the command exits with 2."""

    def __init__(self, found: str, newest: str) -> None:
        super().__init__(
            f"the database is at schema revision {found}, newer than this chatcrm knows (its "
            f"newest is {newest}): a newer chatcrm migrated it. Run that newer chatcrm, or "
            "restore a backup taken before the upgrade; nothing was changed"
        )
        self.found = found


class ServerRunning(CommandError):
    """Migrations are pending and another chatcrm server runs on the database. Nothing was
    changed; the command exits with 2."""

    def __init__(self, server: str, found: str, head: str) -> None:
        super().__init__(
            f"the database is at schema revision {found} and this chatcrm migrates it to {head}, "
            f"but {server} runs on it and would fail on the new schema: stop every chatcrm "
            "serve and polling process on this database, then run `chatcrm db upgrade`, then "
            "start them; nothing was changed"
        )


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> str | None:
    """Upgrade to ``revision``; returns the revision the database was at (None: empty)."""
    config = alembic_config(connection)
    found = MigrationContext.configure(connection).get_current_revision()
    scripts = ScriptDirectory.from_config(config)
    if found is not None and found not in {script.revision for script in scripts.walk_revisions()}:
        raise NewerSchema(found, " ".join(scripts.get_heads()))
    target = scripts.get_revision(revision)
    # an empty database has no server that uses its schema (every server migrates first)
    if found is not None and target is not None and found != target.revision:
        _refuse_beside_a_server(connection, found, target.revision)
    command.upgrade(config, revision)
    return found


def _refuse_beside_a_server(connection: Connection, found: str, head: str) -> None:
    """Raise :class:`ServerRunning` when another chatcrm server runs on the database. Called
    in the migration's transaction: on SQLite that holds the write lock, on PostgreSQL the
    migration lock."""
    if connection.dialect.name == "postgresql":
        free = connection.execute(_LEADER_FREE, {"cls": LOCK_CLASS}).scalar_one()
        server = None if free else "the leading chatcrm server"
    else:
        server = server_beside(connection.engine.url.render_as_string(hide_password=False))
    if server is not None:
        raise ServerRunning(server, found, head)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


Step = Callable[[Connection, str], str | None]


def _migrate(connection: Connection, step: Step, revision: str) -> str | None:
    """``step`` in one transaction (SQLite DDL is transactional too), under the migration lock
    on PostgreSQL; returns what ``step`` returned. On SQLite a migration
    may rebuild a table that other tables' foreign keys name (ALTER TABLE cannot change
    everything): SQLite's procedure for that turns foreign keys off, which only works outside
    a transaction, and checks every one of them before the commit."""
    if connection.dialect.name != "sqlite":
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(_MIGRATION_LOCK, {"cls": MIGRATION_LOCK_CLASS})
            return step(connection, revision)
    _pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            before = step(connection, revision)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration to {revision} broke foreign keys: {broken[:5]}")
            return before
    finally:
        _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    """A pragma sent to the driver as is: a statement through SQLAlchemy would begin a
    transaction first (``storage.db``'s ``BEGIN IMMEDIATE``), in which this pragma does
    nothing."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision`` in one transaction; returns the revision the
    database was at before (None: empty), read under the migration lock. Raises
    :class:`NewerSchema` for a database migrated by a newer chatcrm."""
    async with engine.connect() as connection:
        before: str | None = await connection.run_sync(_migrate, _upgrade, revision)
        return before


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to ``revision`` in one transaction."""
    async with engine.connect() as connection:
        await connection.run_sync(_migrate, _downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The Alembic revision the database is at; None for an empty database."""
    async with engine.connect() as connection:
        try:
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
        except DBAPIError:  # no alembic_version table yet
            return None
