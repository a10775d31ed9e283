"""Hour, ISO weekday and calendar day of a stored UTC time, in the shop's zone, on SQLite and
PostgreSQL.

``sales.occurred_at`` is UTC. PostgreSQL converts with ``timezone(:tz, occurred_at)``, which
follows daylight saving. SQLite has no zone data: it shifts each time by the zone's offset at
that time (:mod:`storage.zone_shift`), one fixed modifier written into the SQL for a zone
whose offset never changes (Asia/Bangkok), a registered function for one that does. The
dialect is chosen when the statement is compiled, so one ``Select`` runs on either database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, func, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from storage.segments.totals import PerDialect
from storage.zone_shift import SQLITE_ZONE_SHIFT, fixed_shift


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


class ShopDate(FunctionElement[date]):
    """The calendar day in shop time."""

    type = Date()
    inherit_cache = True
    name = "shop_date"


#: the third argument of a zone whose offset changes: SQLite shifts each time by its own
_PER_TIME = "NULL"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _args(moment: ColumnElement[Any], tz: ZoneInfo) -> tuple[Any, ...]:
    """(time, zone name, SQLite's fixed modifier or NULL): the modifier is written into the SQL,
    so it is part of the statement's cache key (a statement for another zone is compiled
    anew)."""
    fixed = fixed_shift(tz)
    return (moment, literal(tz.key), literal_column(_PER_TIME if fixed is None else _quoted(fixed)))


def shop_hour(moment: ColumnElement[Any], tz: ZoneInfo) -> ShopHour:
    return ShopHour(*_args(moment, tz))


def shop_weekday(moment: ColumnElement[Any], tz: ZoneInfo) -> ShopWeekday:
    return ShopWeekday(*_args(moment, tz))


def shop_date(moment: ColumnElement[Any], tz: ZoneInfo) -> ShopDate:
    return ShopDate(*_args(moment, tz))


# A rule's weekday or hour condition is tested on every sale of a big shop. On SQLite the
# number needs strftime, a CAST and (for weekdays) arithmetic per row; comparing strftime's
# text with the wanted values as text gives the same answer with less work per row.


def _strftime(form: str, moment: ColumnElement[Any], tz: ZoneInfo) -> ColumnElement[str]:
    """SQLite's ``strftime`` with the format and the shift (or the zone) written into the SQL
    (this module's constants and a zone's name, never rule text): bound as parameters, SQLite
    handles them again for every row."""
    fixed = fixed_shift(tz)
    if fixed is None:
        shift = getattr(func, SQLITE_ZONE_SHIFT)(moment, literal_column(_quoted(tz.key)))
        return func.strftime(literal_column(f"'{form}'"), moment, shift)
    return func.strftime(literal_column(f"'{form}'"), moment, literal_column(_quoted(fixed)))


def shop_weekday_in(
    moment: ColumnElement[Any], tz: ZoneInfo, days: Collection[int]
) -> ColumnElement[bool]:
    """The ISO weekday (Monday 1 … Sunday 7) in shop time is one of ``days``."""
    wanted = sorted(days)
    text = _strftime("%w", moment, tz)  # Sunday '0' … Saturday '6'
    sqlite = _one_of(text, sorted(str(day % 7) for day in wanted), contiguous=False)
    return PerDialect(_one_of(shop_weekday(moment, tz), wanted), sqlite)


def shop_hour_in(
    moment: ColumnElement[Any], tz: ZoneInfo, hours: Collection[int]
) -> ColumnElement[bool]:
    """The hour of day (0–23) in shop time is one of ``hours``."""
    wanted = sorted(hours)
    text = _strftime("%H", moment, tz)  # '00' … '23'
    sqlite = _one_of(text, [f"{hour:02d}" for hour in wanted], contiguous=_contiguous(wanted))
    return PerDialect(_one_of(shop_hour(moment, tz), wanted), sqlite)


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
    element: FunctionElement[Any], compiler: SQLCompiler, wanted: tuple[int, int], **kw: Any
) -> tuple[str, str]:
    """The SQL of two of the (time, zone name, modifier) arguments: only those rendered may be
    processed, or the unused one would still be sent as a parameter."""
    clauses = list(element.clauses)
    first, second = (compiler.process(clauses[i], **kw) for i in wanted)
    return first, second


def _sqlite_local(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    """The arguments of SQLite's ``strftime``/``date`` after the format: the time and its
    shift to shop time."""
    moment, shift = _parts(element, compiler, (0, 2), **kw)
    if shift == _PER_TIME:
        zone = compiler.process(list(element.clauses)[1], **kw)
        shift = f"{SQLITE_ZONE_SHIFT}({moment}, {zone})"
    return f"{moment}, {shift}"


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


@compiles(ShopDate)
def _date_default(element: ShopDate, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = _parts(element, compiler, (0, 1), **kw)
    return f"CAST(timezone({zone}, {moment}) AS DATE)"


@compiles(ShopHour, "sqlite")
def _hour_sqlite(element: ShopHour, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%H', {_sqlite_local(element, compiler, **kw)}) AS INTEGER)"


@compiles(ShopWeekday, "sqlite")
def _weekday_sqlite(element: ShopWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    # strftime('%w') counts Sunday as 0; ISO counts Monday as 1 and Sunday as 7
    local = _sqlite_local(element, compiler, **kw)
    return f"((CAST(strftime('%w', {local}) AS INTEGER) + 6) % 7 + 1)"


@compiles(ShopDate, "sqlite")
def _date_sqlite(element: ShopDate, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({_sqlite_local(element, compiler, **kw)})"
