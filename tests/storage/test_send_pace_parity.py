"""PostgreSQL claims the shared send pace in one statement (``_CLAIM`` in
``storage.repositories.pace``); SQLite runs :func:`~storage.repositories.pace.grant` on the
rows it locked. The two must give the same slots and leave the same rows, to the bit."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, select

from bot.bootstrap import App
from storage.models import SendPace
from storage.raw_session import session_of
from storage.repositories.pace import grant

BOT = "telegram"
CHATS = [f"{BOT}:{n}" for n in range(5)]


def _case(rng: random.Random) -> tuple[dict[str, float], list[str | None], float, float, float]:
    """Rows' next moments around ``now`` (ties included; some rows missing, now and then the
    bot's), the messages, now, the two gaps."""
    now = rng.choice([100.0, 100.1, 1e9 + 0.3])
    moments = [now - 1.0, now - 0.1, now, now + 0.1, now + 0.7, now + 2.0, 0.0]
    keys = [key for key in CHATS if rng.random() > 0.2]
    if rng.random() > 0.1:
        keys.append(BOT)
    rows = {key: rng.choice(moments) for key in keys}
    chats: list[str | None] = [rng.choice([*CHATS, None]) for _ in range(rng.randint(1, 9))]
    sender_gap = rng.choice([0.0, 0.1, 1 / 28, 0.3])
    chat_gap = rng.choice([0.0, 0.05, 1.0, 1 / 3])
    return rows, chats, now, sender_gap, chat_gap


async def test_postgresql_claims_as_the_python_does(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs the Python itself")
    rng = random.Random(17)
    for _ in range(300):
        rows, chats, now, sender_gap, chat_gap = _case(rng)
        # a claim makes the rows it lacks, free (at 0)
        expected = dict.fromkeys([BOT, *(chat for chat in chats if chat is not None)], 0.0)
        expected.update(rows)
        slots, _ = grant(expected, BOT, chats, now, sender_gap, chat_gap)
        async with app.uow() as uow:  # rolled back at the end: each case starts afresh
            session = session_of(uow)
            values = [{"key": key, "next_at": at} for key, at in rows.items()]
            if values:
                await session.execute(insert(SendPace), values)
            got = await uow.pace.claim_many(BOT, chats, now, sender_gap, chat_gap)
            stored = dict((await session.execute(select(SendPace.key, SendPace.next_at))).all())
        assert (got, stored) == (slots, expected), (rows, chats, now, sender_gap, chat_gap)
