"""chat accounts and the inbox: ids never given twice on SQLite (AUTOINCREMENT)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:30:00.000000
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# spelled here, not imported: a migration keeps the schema it made when the models move on
_TABLES = ("channel_identities", "inbox_threads", "inbox")
_INBOX_KEY = re.compile(r"inbox:(\d+):[ar](\d+)")
_LINKED_KEY = re.compile(r"linked:(\d+):(\d+)")
_GUESSER = re.compile(r"identity:(\d+)")


def _highest_named(connection: sa.Connection) -> dict[str, int]:
    """The highest id of each table that kept rows still name: an erasure before this
    migration deleted rows whose ids live on in outbox keys and audit actors."""
    highest = dict.fromkeys(_TABLES, 0)
    keys = connection.execute(
        sa.text(
            "SELECT dedupe_key FROM outbox "
            "WHERE dedupe_key LIKE 'inbox:%' OR dedupe_key LIKE 'linked:%'"
        )
    ).scalars()
    for key in keys:
        if found := _INBOX_KEY.match(key):
            highest["inbox_threads"] = max(highest["inbox_threads"], int(found[1]))
            highest["inbox"] = max(highest["inbox"], int(found[2]))
        elif found := _LINKED_KEY.match(key):
            top = max(int(found[1]), int(found[2]))
            highest["channel_identities"] = max(highest["channel_identities"], top)
    actors = connection.execute(
        sa.text("SELECT DISTINCT actor FROM audit_log WHERE actor LIKE 'identity:%'")
    ).scalars()
    for actor in actors:
        if found := _GUESSER.fullmatch(actor):
            highest["channel_identities"] = max(highest["channel_identities"], int(found[1]))
    return highest


def upgrade() -> None:
    # PostgreSQL's sequences never give an id twice: nothing to do there. SQLite gives a new
    # row max(id) + 1, so the ids of deleted rows at the top come back; with AUTOINCREMENT it
    # remembers the highest id ever given (sqlite_sequence). ALTER TABLE cannot add it: each
    # table is rebuilt (storage.migrate turns foreign keys off around it, as SQLite's
    # procedure for a rebuild asks, and checks them all before the commit).
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    # the sequence starts above the ids already given, also those of rows deleted before
    for table, named in _highest_named(connection).items():
        present = connection.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}"))  # noqa: S608
        seq = max(present.scalar_one(), named)
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        connection.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
            {"t": table, "seq": seq},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, recreate="always"):
            pass
