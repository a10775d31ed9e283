"""The baselines of the peer benchmark, each run as its own process.

``python -m bench.peer_servers KIND PORT JSON`` serves Telegram webhooks until killed; JSON
gives ``database_url`` (the shop ``bench.webhook_ingest.prepare`` seeded) and ``telegram_api``
(the fake Bot API the reply goes to). Both answer ``/points`` with the member's balance and
send the reply before the webhook is answered, as ``chatcrm serve`` does.

- ``peer``: a typical aiogram 3 + SQLAlchemy ORM bot written the straightforward way: its own
  declarative models over the same tables, a session per update, the chat account looked up,
  its member loaded, ``last_seen_at`` set on every update, commit, ``message.answer``.
- ``floor``: the raw driver doing the statements ours needs in one trip to the database (event
  id recorded, ``last_seen_at`` written when older than 5 minutes, the balance read) and the
  reply posted with a bare aiohttp client. SQLite: the stdlib driver in one worker thread, the
  whole transaction a single trip to it; PostgreSQL: asyncpg, one statement with data-modifying
  CTEs from a pool opened at start-up. Connections are opened before the server listens.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import ClientSession, web
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.ingest_servers import SECRET, _serve_app
from simulator.fakes.telegram_api import TOKEN

LAST_SEEN_STEP: Final = timedelta(minutes=5)


# the peer's own models, as such a bot declares them (only the columns it uses)
class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    points_balance: Mapped[int] = mapped_column(Integer)


class ChatUser(Base):
    __tablename__ = "channel_identities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


async def peer(port: int, spec: dict[str, Any]) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import Command
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(spec["database_url"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with engine.connect():  # the pool's first connection, before the timing
        pass
    api = TelegramAPIServer.from_base(spec["telegram_api"])
    bot = Bot(TOKEN, session=AiohttpSession(api=api))
    dispatcher = Dispatcher()

    @dispatcher.message(Command("points"))
    async def points(message: Message) -> None:
        assert message.from_user is not None
        async with sessions() as session:
            user = await session.scalar(
                select(ChatUser).where(
                    ChatUser.channel == "telegram", ChatUser.user_id == str(message.from_user.id)
                )
            )
            if user is None or user.member_id is None:
                await message.answer("Please sign up first.")
                return
            member = await session.get(Member, user.member_id)
            user.last_seen_at = datetime.now(UTC)
            await session.commit()
        assert member is not None
        await message.answer(f"{member.name}: {member.points_balance} points")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=SECRET).register(
        app, path="/webhook/telegram"
    )
    await _serve_app(app, port)


_SQLITE_STEPS: Final = (
    "INSERT INTO processed_events (event_key, processed_at) VALUES (?, ?)",
    "UPDATE channel_identities SET last_seen_at = ? WHERE channel = 'telegram' AND user_id = ? "
    "AND (last_seen_at IS NULL OR last_seen_at < ?)",
)
_SQLITE_READ: Final = (
    "SELECT m.name, m.points_balance FROM channel_identities ci JOIN members m "
    "ON m.id = ci.member_id WHERE ci.channel = 'telegram' AND ci.user_id = ?"
)
_POSTGRES_ONE_TRIP: Final = (
    "WITH ev AS (INSERT INTO processed_events (event_key, processed_at) VALUES ($1, $2)), "
    "seen AS (UPDATE channel_identities SET last_seen_at = $2 WHERE channel = 'telegram' "
    "AND user_id = $3 AND (last_seen_at IS NULL OR last_seen_at < $4)) "
    "SELECT m.name, m.points_balance FROM channel_identities ci JOIN members m "
    "ON m.id = ci.member_id WHERE ci.channel = 'telegram' AND ci.user_id = $3"
)


async def _sqlite_floor(path: str) -> Any:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA synchronous=NORMAL")  # as our engine's default
    connection.execute("PRAGMA busy_timeout=30000")
    worker = ThreadPoolExecutor(1)

    def transaction(key: str, user: str, now: datetime) -> Any:
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")
        stale = (now - LAST_SEEN_STEP).replace(tzinfo=None).isoformat(sep=" ")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(_SQLITE_STEPS[0], (key, stamp))
            connection.execute(_SQLITE_STEPS[1], (stamp, user, stale))
            row = connection.execute(_SQLITE_READ, (user,)).fetchone()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return row

    async def record(key: str, user: str, now: datetime) -> Any:
        return await asyncio.get_running_loop().run_in_executor(worker, transaction, key, user, now)

    return record


async def _postgres_floor(url: str) -> Any:
    import asyncpg  # type: ignore[import-untyped]

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)

    async def record(key: str, user: str, now: datetime) -> Any:
        return await pool.fetchrow(_POSTGRES_ONE_TRIP, key, now, user, now - LAST_SEEN_STEP)

    return record


async def floor(port: int, spec: dict[str, Any]) -> None:
    url = spec["database_url"]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        record = await _sqlite_floor(str(parsed.database))
    else:
        record = await _postgres_floor(url)
    client = ClientSession()
    send = f"{spec['telegram_api']}/bot{TOKEN}/sendMessage"

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=401)
        update = json.loads(await request.read())
        message = update["message"]
        key = f"telegram:{update['update_id']}"
        row = await record(key, str(message["from"]["id"]), datetime.now(UTC))
        text = f"{row[0]}: {row[1]} points" if row else "Please sign up first."
        async with client.post(send, json={"chat_id": message["chat"]["id"], "text": text}) as r:
            await r.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook/telegram", webhook)
    await _serve_app(app, port)


def main() -> None:
    kind, port, spec = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    runs = {"peer": peer, "floor": floor}
    asyncio.run(runs[kind](port, spec))


if __name__ == "__main__":
    main()
