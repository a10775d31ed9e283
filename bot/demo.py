"""The demo shop of ``chatcrm demo``: a local SQLite file full of synthetic customers, with
staff (console identities), a reward catalog and coupons in the history.

The parameters it was built with are stored in ``shop_settings`` (key ``demo``) before the
data goes in, and marked complete after, so a second ``chatcrm demo`` with the same
parameters reuses the file at once (what was done in it stays), while ``--reset``, different
parameters or a build that was interrupted rebuild it (so does a demo made by an older
chatcrm: the record carries a version). A file that is not a chatcrm demo is never deleted.

The demo is a shop called :data:`SHOP_NAME`. While a console session runs on it, its
members' Telegram and LINE accounts are served by the in-process platform fakes, and the
members answer what the shop sends them (:func:`demo_platforms`, :mod:`simulator.live`): a
campaign sent in the demo is delivered, becomes ``sent`` and fills ``/stats``.

:func:`ensure_console_staff` is ``chatcrm chat --as owner|manager|cashier``: on a demo shop it
makes the console identity staff with that role; anywhere else it refuses, since staff access
on a real shop is given by ``chatcrm staff invite`` and ``/claim`` only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.config import Settings
from bot.core.messages import Channel
from bot.core.ports import Outbound
from bot.demo_history import (
    SHOP_NAME,
    add_automation_history,
    add_simulated_days,
    history_settings,
    simulation_start,
)
from shop.profile import SHOP_KEY
from simulator.inprocess import InProcessWorld
from simulator.live import LiveShop
from simulator.population import load_population
from simulator.run import home_branches
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Branch, Member, ShopSetting
from storage.raw_session import session_of
from storage.synthetic import Progress, ShopSummary, generate_shop
from storage.synthetic.loyalty import CONSOLE, CounterSummary, add_counter, console_user
from storage.uow import UnitOfWorkFactory

#: the platforms a demo console session serves beside the terminal
Platforms = Mapping[Channel, Outbound]

DEMO_KEY: Final = "demo"
#: bumped when the demo gains data, so that an older demo file is rebuilt rather than reused
DEMO_VERSION: Final = 6
STAFF_ROLES: Final = ("owner", "manager", "cashier")
#: each role as a sentence names one ("is not an owner")
ROLE_WITH_ARTICLE: Final = {"owner": "an owner", "manager": "a manager", "cashier": "a cashier"}


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
    counter: CounterSummary | None = None


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
        keys = (DEMO_KEY, SHOP_KEY)
        await connection.execute(delete(ShopSetting).where(ShopSetting.key.in_(keys)))
        # the shop's name as /settings keeps it, so /settings shows it and the chat uses it
        name = {"name_th": SHOP_NAME["th"], "name_en": SHOP_NAME["en"]}
        rows = [
            {"key": DEMO_KEY, "value": value, "updated_at": now},
            {"key": SHOP_KEY, "value": name, "updated_at": now},
        ]
        await connection.execute(insert(ShopSetting), rows)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def demo_settings(settings: Settings, database_url: str) -> Settings:
    """``settings`` for the demo shop: its database and its name in the shop's language."""
    name = SHOP_NAME.get(settings.locale, SHOP_NAME["en"])
    return settings.model_copy(update={"database_url": database_url, "shop_name": name})


async def build_demo(
    path: Path,
    params: DemoParams,
    *,
    now: datetime,
    progress: Progress | None = None,
    reset: bool = False,
) -> DemoShop:
    """Create the demo shop at ``path``, or reuse it when it was built with ``params``
    (``reset``: build it anew all the same)."""
    url = demo_url(path)
    wanted = {**dataclasses.asdict(params), "version": DEMO_VERSION}
    if await asyncio.to_thread(path.exists):
        engine = create_engine(url)
        try:
            stored = await _stored(engine)
            same = stored is not None and stored.get("params") == wanted
            if same and not reset and stored is not None and stored.get("complete"):
                await upgrade(engine)  # a newer chatcrm may have added migrations since
                summary = ShopSummary(**stored["summary"])
                counter = CounterSummary(**stored["counter"])
                return DemoShop(url, reused=True, summary=summary, counter=counter)
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
        # the last days are simulated through the product itself (see bot.demo_history)
        start = simulation_start(now, history_settings(url))
        summary = await generate_shop(
            engine,
            members=params.members,
            months=params.months,
            seed=params.seed,
            now=start,
            progress=progress,
        )
        counter = await add_counter(engine, now=start, seed=params.seed)
        await add_automation_history(engine, url, now=start)
        await add_simulated_days(engine, url, start=start, seed=params.seed)
        record = {
            "params": wanted,
            "complete": True,
            "summary": dataclasses.asdict(summary),
            "counter": dataclasses.asdict(counter),
        }
        await _record(engine, record, now)
    finally:
        await engine.dispose()
    return DemoShop(url, reused=False, summary=summary, counter=counter)


def default_console_user(role: str) -> str:
    """The console identity ``--as ROLE`` chats as when no ``--user`` is given."""
    if role == "cashier":
        return console_user("cashier", "asoke")
    return "console" if role == "customer" else role


async def ensure_console_staff(database_url: str, user_id: str, role: str, now: datetime) -> str:
    """Make console user ``user_id`` a ``role`` on a demo shop; returns a line to print.

    A cashier ``cashier-<branch code>`` works at that branch, any other cashier at the first
    branch. Raises DemoError on a database that is not a demo shop, unless the identity is
    already staff with exactly that role.
    """
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(session_factory(engine))
        demo = await _stored(engine) is not None
        async with uow_factory() as uow:
            staff = await uow.staff.by_identity(CONSOLE, user_id)
            if staff is not None and staff.role == role:
                return f"chatting as {role} {staff.name!r} (console user {user_id!r})"
            if not demo:
                raise DemoError(
                    f"console user {user_id!r} is not {ROLE_WITH_ARTICLE[role]} of this shop: run "
                    f"`chatcrm staff invite --role {role}` and send /claim CODE in the chat"
                )
            branch_id = (
                await _cashier_branch(session_of(uow), user_id) if role == "cashier" else None
            )
            name = f"Demo {role} ({user_id})"
            await uow.staff.add(CONSOLE, user_id, name, role, branch_id, now)
            await uow.audit.record(
                "cli", "staff_demo_role", now, channel=CONSOLE, user_id=user_id, role=role
            )
            await uow.commit()
        return f"chatting as demo {role} (console user {user_id!r})"
    finally:
        await engine.dispose()


async def _cashier_branch(session: Any, user_id: str) -> int | None:
    code = user_id.removeprefix("cashier-")
    found = await session.execute(select(Branch.id).where(Branch.code == code))
    branch_id = found.scalar_one_or_none()
    if branch_id is None:
        first = await session.execute(select(Branch.id).order_by(Branch.id).limit(1))
        branch_id = first.scalar_one_or_none()
    return None if branch_id is None else int(branch_id)


@dataclass(frozen=True)
class SampleMember:
    name: str
    phone: str
    code: str
    points: int


async def sample_members(database_url: str, count: int = 3) -> list[SampleMember]:
    """A few demo members with points to spare, so a new user has someone to try /sale and
    /customer on without searching the database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Member.name, Member.phone, Member.member_code, Member.points_balance)
                .where(Member.erased_at.is_(None), Member.phone.is_not(None))
                .order_by(Member.points_balance.desc(), Member.id)
                .limit(count)
            )
            return [
                SampleMember(name or "", phone or "", code, int(points))
                for name, phone, code, points in rows
            ]
    finally:
        await engine.dispose()


async def demo_seed(database_url: str) -> int | None:
    """The seed a demo shop was built with; None when the database is not a complete demo."""
    engine = create_engine(database_url)
    try:
        stored = await _stored(engine)
    finally:
        await engine.dispose()
    if stored is None or not stored.get("complete"):
        return None
    params = stored.get("params")
    return int(params.get("seed", 0)) if isinstance(params, dict) else 0


def demo_platforms(seed: int) -> Callable[[App], AbstractAsyncContextManager[Platforms]]:
    """The demo members' Telegram and LINE, served in-process while a console session runs:
    what the shop sends them is delivered to the fakes and answered (:mod:`simulator.live`)."""

    @asynccontextmanager
    async def serving(app: App) -> AsyncIterator[Platforms]:
        people = await load_population(app.engine, seed)
        homes = await home_branches(app)
        world = InProcessWorld(app)
        live = LiveShop(
            app,
            world,
            {(person.channel, person.user_id): person for person in people},
            {member: console_user("cashier", code) for member, code in homes.items()},
            console_user("cashier", "asoke"),
            random.Random(seed),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(live.run(stop), name="demo-customers")
        try:
            yield world.channels
        finally:
            stop.set()
            await task

    return serving
