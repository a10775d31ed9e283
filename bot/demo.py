"""The demo shop of ``chatcrm demo``: a local SQLite file full of synthetic customers.

The parameters it was built with are stored in ``shop_settings`` (key ``demo``) before the
data goes in, and marked complete after, so a second ``chatcrm demo`` with the same
parameters reuses the file at once, while different parameters or a build that was
interrupted rebuild it. A file that is not a chatcrm demo is never deleted.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import ShopSetting
from storage.synthetic import Progress, ShopSummary, generate_shop

DEMO_KEY: Final = "demo"
DEFAULT_DEMO_PATH: Final = Path("chatcrm-demo.db")


class DemoError(Exception):
    """The demo cannot be built where asked (for example, the file is someone's real shop)."""


@dataclass(frozen=True)
class DemoParams:
    members: int = 2000
    months: int = 6
    seed: int = 42


@dataclass(frozen=True)
class DemoShop:
    database_url: str
    reused: bool
    summary: ShopSummary


def demo_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


async def _stored(engine: AsyncEngine) -> dict[str, Any] | None:
    """The demo record of an existing file; None if the file is not a chatcrm demo."""
    try:
        async with engine.connect() as connection:
            value = (
                await connection.execute(
                    select(ShopSetting.value).where(ShopSetting.key == DEMO_KEY)
                )
            ).scalar_one_or_none()
    except DBAPIError:  # not a chatcrm database at all (or not even SQLite)
        return None
    return dict(value) if isinstance(value, dict) else None


async def _record(engine: AsyncEngine, value: dict[str, Any], now: datetime) -> None:
    async with engine.begin() as connection:
        await connection.execute(delete(ShopSetting).where(ShopSetting.key == DEMO_KEY))
        row = {"key": DEMO_KEY, "value": value, "updated_at": now}
        await connection.execute(insert(ShopSetting), [row])


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def build_demo(
    path: Path, params: DemoParams, *, now: datetime, progress: Progress | None = None
) -> DemoShop:
    """Create the demo shop at ``path``, or reuse it when it was built with ``params``."""
    url = demo_url(path)
    wanted = dataclasses.asdict(params)
    if await asyncio.to_thread(path.exists):
        engine = create_engine(url)
        try:
            stored = await _stored(engine)
            if stored is not None and stored.get("params") == wanted and stored.get("complete"):
                await upgrade(engine)  # a newer chatcrm may have added migrations since
                return DemoShop(url, reused=True, summary=ShopSummary(**stored["summary"]))
        finally:
            await engine.dispose()
        if stored is None:
            raise DemoError(
                f"{path} exists and is not a chatcrm demo database; "
                "remove it or choose another file with --database"
            )
        _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await _record(engine, {"params": wanted, "complete": False}, now)
        summary = await generate_shop(
            engine,
            members=params.members,
            months=params.months,
            seed=params.seed,
            now=now,
            progress=progress,
        )
        record = {"params": wanted, "complete": True, "summary": dataclasses.asdict(summary)}
        await _record(engine, record, now)
    finally:
        await engine.dispose()
    return DemoShop(url, reused=False, summary=summary)
