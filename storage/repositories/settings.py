"""Shop settings, with a per-process cache that can never serve a value the database no longer has.

Settings are read on most events (``/points`` reads the loyalty rules) and written a few times a
month, so each process keeps the values it read. Every write also stores a new random *version*
token (the row :data:`VERSION_KEY`), in the same transaction as the value. Cached values are
tagged with the token they were read under and served only to a transaction that has seen that
same token: the bus reads the token in the query that loads the event's author (no extra round
trip), any other unit of work with its first setting. A write in another process, or in
another transaction of this one, changes the token and so retires the whole cache; a write
that is rolled back changes nothing. A unit of work that wrote settings reads its own writes
straight from the database.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ShopSetting, table_of

#: the row whose value changes with every settings write (``{"token": <random hex>}``)
VERSION_KEY: Final = "_version"

Value = dict[str, Any]


def version_column() -> ColumnElement[Any]:
    """The settings version as a column of another query (None before the first write)."""
    table = table_of(ShopSetting)
    query = select(table.c.value).where(table.c.key == VERSION_KEY)
    return query.scalar_subquery().label("settings_version")


#: a setting and the settings version, read in one statement (hence both from one snapshot)
_READ: Final = select(
    select(table_of(ShopSetting).c.value)
    .where(table_of(ShopSetting).c.key == bindparam("key"))
    .scalar_subquery()
    .label("value"),
    version_column(),
)

_UNSEEN: Final = object()


class SettingsCache:
    """Setting values of one settings version, shared by the units of work of a process."""

    def __init__(self) -> None:
        self._version: object = _UNSEEN
        self._values: dict[str, Value | None] = {}

    def get(self, version: object, key: str) -> tuple[bool, Value | None]:
        """(whether ``key`` is known at ``version``, its value there)."""
        if version != self._version or key not in self._values:
            return False, None
        return True, copy.deepcopy(self._values[key])

    def put(self, version: object, key: str, value: Value | None) -> None:
        """Remember ``key`` as read at ``version``; values of any other version are dropped."""
        if version != self._version:
            self._version, self._values = version, {}
        self._values[key] = copy.deepcopy(value)

    def clear(self) -> None:
        self._version, self._values = _UNSEEN, {}


class ShopSettings:
    """Owner-editable settings by key (JSON objects); see the module for the cache."""

    def __init__(self, session: AsyncSession, cache: SettingsCache | None = None) -> None:
        self._s = session
        self._cache = cache
        self._version: object = _UNSEEN  # the settings version this transaction has seen
        self._wrote = False

    def seen_version(self, version: object) -> None:
        """This transaction read ``version`` (the bus passes on what it loaded the author with)."""
        self._version = version

    async def get(self, key: str) -> Value | None:
        cache = self._cache
        if cache is None or self._wrote:
            # this transaction's own writes, or (after :meth:`lock`) what the writer before
            # committed, not what the session read earlier
            row = await self._s.get(ShopSetting, key, populate_existing=True)
            return None if row is None else dict(row.value)
        if self._version is not _UNSEEN:
            known, value = cache.get(self._version, key)
            if known:
                return value
        value, version = (await self._s.execute(_READ, {"key": key})).one()
        self._version = version
        cache.put(version, key, value)
        return None if value is None else dict(value)

    async def lock(self, now: datetime) -> None:
        """Queue behind any other settings writer until this transaction ends (the settings
        version is renewed, which holds its row); settings read afterwards are as stored now,
        so a change checked against the others is checked against what another writer just
        committed. A writer that only stores one entry needs none: :meth:`put` does it."""
        await self._new_version(now)
        self._wrote = True
        if self._cache is not None:
            self._cache.clear()

    async def put(
        self, key: str, value: Value, now: datetime, *, only: str | Sequence[str] | None = None
    ) -> None:
        """Store ``value`` as setting ``key``; with ``only``, just that entry of ``value`` (a
        key, or a path of keys into nested entries: ``("caps", "fan")``), into the setting as
        stored now, so a change another writer made to another entry meanwhile survives. The
        settings version is renewed first: that holds its row to the commit, so writers queue
        there and each reads what the one before committed."""
        await self._new_version(now)
        row = await self._s.get(ShopSetting, key, populate_existing=True)
        if only is not None:
            path = (only,) if isinstance(only, str) else tuple(only)
            value = _merged(row.value if row is not None else {}, value, path)
        if row is None:
            self._s.add(ShopSetting(key=key, value=value, updated_at=now))
        else:
            row.value = value
            row.updated_at = now
        await self._s.flush()
        self._wrote = True
        if self._cache is not None:
            self._cache.clear()

    async def _new_version(self, now: datetime) -> None:
        """Store a new version token (one upsert; concurrent writers queue on its row, also
        when it is new)."""
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = table_of(ShopSetting)
        statement = insert(table).values(
            key=VERSION_KEY, value={"token": secrets.token_hex(16)}, updated_at=now
        )
        await self._s.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "value": statement.excluded.value,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )


def _merged(stored: Value, value: Value, path: tuple[str, ...]) -> Value:
    """``stored`` with the entry at ``path`` taken from ``value`` (nested entries that are not
    objects in ``stored`` start empty)."""
    head, rest = path[0], path[1:]
    if not rest:
        return {**stored, head: value[head]}
    inner = stored.get(head)
    return {**stored, head: _merged(inner if isinstance(inner, dict) else {}, value[head], rest)}
