"""The shift from a stored UTC time to shop time on SQLite, which has no zone data.

A zone whose offset has not changed since 1970 (Asia/Bangkok, UTC) is one fixed modifier for
every row, written into the SQL: ``strftime('%H', t, '+25200 seconds')``. A zone that has
changed it (daylight saving: Europe/London) takes each time's own offset from
:func:`zone_shift`, registered on every SQLite connection as :data:`SQLITE_ZONE_SHIFT`:
``strftime('%H', t, chatcrm_zone_shift(t, 'Europe/London'))``. The function looks the time up
among the zone's changes (found once per zone, :func:`_changes`) with a binary search on the
stored text, so a row costs one call and a few string comparisons. PostgreSQL has its own
zone data (``timezone(zone, t)``).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

SQLITE_ZONE_SHIFT: Final = "chatcrm_zone_shift"
#: the span searched for offset changes, sampled every :data:`_STEP` (a change that is undone
#: within a week could be missed; no zone has had one since 1970)
_FIRST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LAST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_STEP: Final = timedelta(days=7)
#: how SQLite stores a UTC time (``storage.types.UTCDateTime``): text that sorts by time
_STORED: Final = "%Y-%m-%d %H:%M:%S"


def _offset(tz: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _modifier(seconds: int) -> str:
    return f"{seconds:+d} seconds"


def _change_within(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second of ``(before, after]`` whose offset differs from ``before``'s."""
    old = _offset(tz, before)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if _offset(tz, middle) == old:
            before = middle
        else:
            after = middle
    return after


@lru_cache(maxsize=32)
def _changes(tz: ZoneInfo) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The zone's offset changes since 1970, as (stored UTC times at which a new offset starts,
    SQLite modifiers: one more than the times, the first for any time before the first
    change)."""
    starts: list[str] = []
    modifiers = [_modifier(_offset(tz, _FIRST))]
    moment = _FIRST
    while moment < _LAST:
        following = moment + _STEP
        if _offset(tz, following) != _offset(tz, moment):
            change = _change_within(tz, moment, following)
            starts.append(change.strftime(_STORED))
            modifiers.append(_modifier(_offset(tz, change)))
        moment = following
    return tuple(starts), tuple(modifiers)


def fixed_shift(tz: ZoneInfo) -> str | None:
    """The zone's one SQLite modifier (``+25200 seconds`` in Bangkok) when its offset has not
    changed since 1970, else None: each time needs its own (:func:`zone_shift`)."""
    starts, modifiers = _changes(tz)
    return None if starts else modifiers[0]


def zone_shift(moment: str | None, zone: str) -> str | None:
    """The SQLite modifier taking the stored UTC time ``moment`` to its time in ``zone``."""
    if moment is None:
        return None
    starts, modifiers = _changes_of(zone)
    return modifiers[bisect_right(starts, moment)]


@lru_cache(maxsize=32)
def _changes_of(zone: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`_changes` by the zone's name: called once per row, without building a zone."""
    return _changes(ZoneInfo(zone))


def register_zone_shift(connection: Any) -> None:
    """:func:`zone_shift` on a new SQLite connection (deterministic: same time, same shift)."""
    connection.create_function(SQLITE_ZONE_SHIFT, 2, zone_shift, deterministic=True)
