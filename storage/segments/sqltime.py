"""Hour and ISO weekday of a stored UTC time, in the shop's zone, on SQLite and PostgreSQL.

``sales.occurred_at`` is UTC. PostgreSQL converts with ``timezone(:tz, occurred_at)``, which
follows daylight saving. SQLite has no zone data, so it shifts by a fixed offset: the zone's
offset at the rule's ``now``. Asia/Bangkok has no daylight saving, so this is exact for Thai
shops; for a zone with daylight saving, visits on the other side of a change are off by the
difference (an hour) on SQLite only. The dialect is chosen when the statement is compiled, so
one ``Select`` runs on either database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from storage.segments.totals import PerDialect


class ShopHour(FunctionElement[int]):
    """Hour of day 0–23 in shop time."""

    type = Integer()
    inherit_cache = True
    name = "shop_hour"


class ShopWeekday(FunctionElement[int]):
    """ISO weekday in shop time: Monday 1 … Sunday 7."""

    type = Integer()
    inherit_cache = True
    name = "shop_weekday"


def _shift(tz: ZoneInfo, now: datetime) -> str:
    """SQLite's modifier for the zone's offset at ``now`` (``+25200 seconds`` in Bangkok)."""
    offset = now.astimezone(tz).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return f"{seconds:+d} seconds"


def _args(moment: ColumnElement[Any], tz: ZoneInfo, now: datetime) -> tuple[Any, ...]:
    return (moment, literal(tz.key), literal(_shift(tz, now)))


def shop_hour(moment: ColumnElement[Any], tz: ZoneInfo, now: datetime) -> ShopHour:
    return ShopHour(*_args(moment, tz, now))


def shop_weekday(moment: ColumnElement[Any], tz: ZoneInfo, now: datetime) -> ShopWeekday:
    return ShopWeekday(*_args(moment, tz, now))


# A rule's weekday or hour condition is tested on every sale of a big shop. On SQLite the
# number needs strftime, a CAST and (for weekdays) arithmetic per row; comparing strftime's
# text with the wanted values as text gives the same answer with less work per row.


def _strftime(
    form: str, moment: ColumnElement[Any], tz: ZoneInfo, now: datetime
) -> ColumnElement[str]:
    """SQLite's ``strftime`` with the format and the shift written into the SQL (both are this
    module's constants, never rule text): bound as parameters, SQLite handles them again for
    every row."""
    return func.strftime(
        literal_column(f"'{form}'"), moment, literal_column(f"'{_shift(tz, now)}'")
    )


def shop_weekday_in(
    moment: ColumnElement[Any], tz: ZoneInfo, now: datetime, days: Collection[int]
) -> ColumnElement[bool]:
    """The ISO weekday (Monday 1 … Sunday 7) in shop time is one of ``days``."""
    wanted = sorted(days)
    text = _strftime("%w", moment, tz, now)  # Sunday '0' … Saturday '6'
    sqlite = _one_of(text, sorted(str(day % 7) for day in wanted), contiguous=False)
    return PerDialect(_one_of(shop_weekday(moment, tz, now), wanted), sqlite)


def shop_hour_in(
    moment: ColumnElement[Any], tz: ZoneInfo, now: datetime, hours: Collection[int]
) -> ColumnElement[bool]:
    """The hour of day (0–23) in shop time is one of ``hours``."""
    wanted = sorted(hours)
    text = _strftime("%H", moment, tz, now)  # '00' … '23'
    sqlite = _one_of(text, [f"{hour:02d}" for hour in wanted], contiguous=_contiguous(wanted))
    return PerDialect(_one_of(shop_hour(moment, tz, now), wanted), sqlite)


def _contiguous(values: list[int]) -> bool:
    return bool(values) and values[-1] - values[0] == len(values) - 1


def _one_of(expr: ColumnElement[Any], wanted: list[Any], *, contiguous: bool | None = None) -> Any:
    """``expr`` equal to one of ``wanted`` (sorted): ``=`` for one value, ``BETWEEN`` for a run
    of consecutive ones (``hour >= 17``), else ``IN`` (SQLite probes an IN list per row, which
    costs more than two comparisons)."""
    if len(wanted) == 1:
        return expr == wanted[0]
    if contiguous if contiguous is not None else _contiguous(wanted):
        return expr.between(wanted[0], wanted[-1])
    return expr.in_(wanted)


def _parts(
    element: FunctionElement[int], compiler: SQLCompiler, wanted: tuple[int, int], **kw: Any
) -> tuple[str, str]:
    """The SQL of two of the (time, zone name, offset) arguments: only those rendered may be
    processed, or the unused one would still be sent as a parameter."""
    clauses = list(element.clauses)
    first, second = (compiler.process(clauses[i], **kw) for i in wanted)
    return first, second


@compiles(ShopHour)
def _hour_default(element: ShopHour, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = _parts(element, compiler, (0, 1), **kw)
    # date_part (double precision) rather than EXTRACT (numeric since PostgreSQL 14): the
    # same whole number, about a sixth less time per row over a big sales scan
    return f"CAST(date_part('hour', timezone({zone}, {moment})) AS INTEGER)"


@compiles(ShopWeekday)
def _weekday_default(element: ShopWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = _parts(element, compiler, (0, 1), **kw)
    return f"CAST(date_part('isodow', timezone({zone}, {moment})) AS INTEGER)"


@compiles(ShopHour, "sqlite")
def _hour_sqlite(element: ShopHour, compiler: SQLCompiler, **kw: Any) -> str:
    moment, shift = _parts(element, compiler, (0, 2), **kw)
    return f"CAST(strftime('%H', {moment}, {shift}) AS INTEGER)"


@compiles(ShopWeekday, "sqlite")
def _weekday_sqlite(element: ShopWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    moment, shift = _parts(element, compiler, (0, 2), **kw)
    # strftime('%w') counts Sunday as 0; ISO counts Monday as 1 and Sunday as 7
    return f"((CAST(strftime('%w', {moment}, {shift}) AS INTEGER) + 6) % 7 + 1)"
