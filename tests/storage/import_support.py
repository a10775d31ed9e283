"""Helpers for the import and export tests: files, the clock, reading what was stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.importing import ImportReport, import_members, import_sales
from storage.models import Member, PointsEntry

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
BANGKOK = ZoneInfo("Asia/Bangkok")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


async def members_from(engine: AsyncEngine, path: Path, **options: Any) -> ImportReport:
    return await import_members(engine, path, now=NOW, tz=BANGKOK, **options)


def base_rate(amount: Decimal) -> int:
    return int(amount // 25)


async def sales_from(engine: AsyncEngine, path: Path, **options: Any) -> ImportReport:
    options.setdefault("points_for", base_rate)
    return await import_sales(engine, path, now=NOW, tz=BANGKOK, **options)


async def rows(engine: AsyncEngine, *columns: Any) -> Sequence[Any]:
    async with engine.connect() as connection:
        return (await connection.execute(select(*columns))).all()


async def count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


async def balances_match_ledger(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                PointsEntry.member_id
            )
        )
        sums = {int(member_id): int(total) for member_id, total in result}
    cached = {
        int(member_id): int(balance)
        for member_id, balance in await rows(engine, Member.id, Member.points_balance)
    }
    return all(cached[member_id] == sums.get(member_id, 0) for member_id in cached)


async def member_by_phone(engine: AsyncEngine, phone: str) -> Any:
    async with engine.connect() as connection:
        result = await connection.execute(select(Member).where(Member.phone == phone))
        return result.one_or_none()
