"""``chatcrm export members``: one CSV row per member, streamed from one query.

The file is UTF-8 with a byte order mark (Excel shows Thai correctly only then), one row per
member who has not been erased (an erased member's row holds no personal data worth
exporting), and reads back through ``chatcrm import members`` as it is: its headers are the
import's field names, and the member code is kept for members the import creates.

A cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` first: a
customer chooses their own name, and a phone ``+66…`` would become a number) is written with a
leading ``'`` (:mod:`bot.core.spreadsheet`), which the import removes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.spreadsheet import spreadsheet_row
from storage.models import Branch, Member, MemberTag, Sale, table_of

COLUMNS: Final = (
    "member_code",
    "name",
    "phone",
    "birthday",
    "gender",
    "home_branch",
    "joined",
    "tier",
    "points",
    "visits",
    "total_spend",
    "last_visit",
    "marketing_consent",
    "tags",
)
YIELD_PER: Final = 1_000
_MEMBERS = table_of(Member)
_SALES = table_of(Sale)
_TAGS = table_of(MemberTag)
_BRANCHES = table_of(Branch)

#: (members written so far)
ExportProgress = Callable[[int], None]


def _query(tier_since: datetime, where: ColumnElement[bool] | None = None) -> Any:
    live = _SALES.c.voided_at.is_(None)
    stats = (
        select(
            _SALES.c.member_id,
            func.count().label("visits"),
            func.sum(_SALES.c.amount).label("spend"),
            func.max(_SALES.c.occurred_at).label("last_visit"),
            func.sum(
                case((_SALES.c.occurred_at >= tier_since, _SALES.c.amount), else_=Decimal(0))
            ).label("window_spend"),
        )
        .where(live, _SALES.c.member_id.is_not(None))
        .group_by(_SALES.c.member_id)
        .subquery()
    )
    tags = (
        select(_TAGS.c.member_id, func.aggregate_strings(_TAGS.c.tag, ",").label("tags"))
        .group_by(_TAGS.c.member_id)
        .subquery()
    )
    return (
        select(
            _MEMBERS,
            _BRANCHES.c.code.label("branch_code"),
            stats.c.visits,
            stats.c.spend,
            stats.c.last_visit,
            stats.c.window_spend,
            tags.c.tags,
        )
        .outerjoin(_BRANCHES, _BRANCHES.c.id == _MEMBERS.c.home_branch_id)
        .outerjoin(stats, stats.c.member_id == _MEMBERS.c.id)
        .outerjoin(tags, tags.c.member_id == _MEMBERS.c.id)
        .where(_MEMBERS.c.erased_at.is_(None), *(() if where is None else (where,)))
        .order_by(_MEMBERS.c.id)
        .execution_options(yield_per=YIELD_PER)
    )


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).replace(microsecond=0).isoformat() if moment else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _row(member: Any, tz: ZoneInfo, tier_for: Callable[[str | None, Decimal], str]) -> list[str]:
    spend = Decimal(member.spend or 0).quantize(Decimal("0.01"))
    tags = sorted(set(member.tags.split(","))) if member.tags else []
    return [
        member.member_code,
        member.name or "",
        member.phone or "",
        _day(member.birthday),
        member.gender or "",
        member.branch_code or "",
        _when(member.joined_at, tz),
        tier_for(member.tier, Decimal(member.window_spend or 0)),
        str(member.points_balance),
        str(member.visits or 0),
        str(spend),
        _when(member.last_visit, tz),
        "yes" if member.marketing_opt_in else "no",
        ",".join(tags),
    ]


async def csv_chunks(
    engine: AsyncEngine,
    *,
    tz: ZoneInfo,
    tier_since: datetime,
    tier_for: Callable[[str | None, Decimal], str],
    where: ColumnElement[bool] | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """The export as text, the header first, then one chunk per :data:`YIELD_PER` members,
    each with how many members it holds; ``where`` (a condition on ``members``) narrows it.
    The file writer and the web console's download both read this one writer (no BOM: the
    writer of the bytes adds it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue(), 0
    async with engine.connect() as connection:
        result = await connection.stream(_query(tier_since, where))
        async for partition in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            rows: Iterable[Any] = partition
            writer.writerows(spreadsheet_row(_row(member, tz, tier_for)) for member in rows)
            yield buffer.getvalue(), len(partition)


async def export_members(
    engine: AsyncEngine,
    path: Path,
    *,
    tz: ZoneInfo,
    tier_since: datetime,
    tier_for: Callable[[str | None, Decimal], str],
    progress: ExportProgress | None = None,
) -> int:
    """Write every non-erased member to ``path``; returns how many rows were written.

    ``tier_for`` names the tier held by a member whose review gave them the tier its first
    argument names (``members.tier``) and who spent its second since ``tier_since`` (the caller
    knows the shop's rules; storage does not).
    """
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        chunks = csv_chunks(engine, tz=tz, tier_since=tier_since, tier_for=tier_for)
        async for text, count in chunks:
            handle.write(text)
            written += count
            if count and progress is not None:
                progress(written)
    return written
