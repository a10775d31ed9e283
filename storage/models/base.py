"""Declarative base, naming convention and id type shared by every table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    MetaData,
    Table,
)
from sqlalchemy.orm import DeclarativeBase

from storage.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

#: table option for the tables whose ids go into keys that outlive their rows (outbox keys of
#: staff alerts and answers, the audit rows of a code throttle): an erasure deletes the rows,
#: and SQLite would give a deleted highest id again (``max(id) + 1``), so the next customer's
#: rows would collide with what is kept under the erased person's ids. ``AUTOINCREMENT`` never
#: gives an id twice, as PostgreSQL's sequences never do (migration 0019).
NEVER_REUSED: Final[dict[str, Any]] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        Decimal: Money,
        dict[str, Any]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
