"""Run the Alembic migration chain against an engine (``chatcrm db upgrade``, and ``serve``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def _migrate(
    connection: Connection, step: Callable[[Connection, str], None], revision: str
) -> None:
    """``step`` in one transaction (SQLite DDL is transactional too). On SQLite a migration
    may rebuild a table that other tables' foreign keys name (ALTER TABLE cannot change
    everything): SQLite's procedure for that turns foreign keys off, which only works outside
    a transaction, and checks every one of them before the commit."""
    if connection.dialect.name != "sqlite":
        with connection.begin():
            step(connection, revision)
        return
    _pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            step(connection, revision)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration to {revision} broke foreign keys: {broken[:5]}")
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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction."""
    async with engine.connect() as connection:
        await connection.run_sync(_migrate, _upgrade, revision)


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
