"""Personal data in the server's log, from outside: a member signs up through real Telegram
webhooks, writes to the shop, gets a sale, asks for /mydata and erases themselves while the log
is written as ``serve`` writes it (INFO, every format). PDPA: the log must not keep the phone,
name or words of a member (least of all after /deleteme), nor the bot's token or webhook secret.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import t
from bot.logging_context import ContextFilter, formatter
from simulator.fakes.line_webhooks import follow_event, postback_event, text_event
from simulator.fakes.telegram_api import TOKEN
from simulator.fakes.telegram_updates import callback_update, text_update
from tests.e2e.telegram_world import SECRET, TelegramWorld, telegram_world_with_branch
from tests.storage.test_line_redelivery_order import USER as LINE_USER
from tests.storage.test_line_redelivery_order import Line, line
from tests.unit.staff_support import make_member, make_staff

__all__ = ["line"]  # the LINE world fixture

MEMBER = 5551201
CASHIER = 5551299
NAME = "มะลิ Kanyaratzz"
PHONE_TYPED = "089-111-2233"
PHONE_DIGITS = ("0891112233", "891112233", "+66891112233")
WORDS = "my home is 99/1 Soi Thonglor"
#: what no log line may hold (the fake's own access log names the token in its path: left out)
SECRETS = (NAME, "Kanyaratzz", PHONE_TYPED, *PHONE_DIGITS, "Thonglor", TOKEN, SECRET)


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """Every record at INFO and above, in all three formats ``serve`` can write, except the
    access lines of aiohttp's test servers (the product's own access log redacts; the fake
    Telegram's logs the token path, which is not the product's)."""
    stream = io.StringIO()
    handlers = []
    root = logging.getLogger()
    previous = root.level
    for fmt in ("text", "kv", "json"):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter(fmt))  # type: ignore[arg-type]
        handler.addFilter(ContextFilter())
        handler.addFilter(lambda record: record.name != "aiohttp.access")
        handler.setLevel(logging.INFO)
        root.addHandler(handler)
        handlers.append(handler)
    root.setLevel(logging.INFO)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world_with_branch(app) as world:
        yield world


class Person:
    """A Telegram user posting real updates and pressing the buttons the bot sent them."""

    ids = itertools.count(70_000)

    def __init__(self, tg: TelegramWorld, user_id: int) -> None:
        self.tg, self.user_id, self.seen = tg, user_id, 0

    def fresh(self) -> list[Any]:
        sent = self.tg.fake.sent(self.user_id)
        new, self.seen = sent[self.seen :], len(sent)
        return new

    async def say(self, text: str) -> list[Any]:
        assert await self.tg.post(text_update(next(self.ids), self.user_id, text)) == 200
        return self.fresh()

    async def press(self, shown: list[Any], label: str) -> list[Any]:
        buttons = {k: v for m in shown for k, v in m.callback_data().items()}
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        update = callback_update(next(self.ids), self.user_id, buttons[label])
        assert await self.tg.post(update) == 200
        return self.fresh()


async def _sign_up(me: Person) -> None:
    shown = await me.say("/start")
    shown = await me.press(shown, t("th", "signup.accept"))
    shown = await me.press(shown, t("th", "signup.marketing_yes"))
    await me.say(NAME)
    shown = await me.say(PHONE_TYPED)
    shown = await me.say("1/5/2530")
    shown = await me.press(shown, "ข้าม")
    shown = await me.press(shown, "อโศก")
    assert any(m.method == "sendPhoto" for m in shown), "no member card after sign-up"


async def test_a_members_whole_life_leaves_no_personal_data_in_the_log(
    tg: TelegramWorld, server_log: io.StringIO
) -> None:
    me, cashier = Person(tg, MEMBER), Person(tg, CASHIER)
    await make_staff(tg.app, str(CASHIER), "cashier", "asoke")

    await _sign_up(me)
    assert await me.say(WORDS)
    assert await cashier.say(f"/sale {PHONE_TYPED} 250")
    assert await me.say("/mydata")
    shown = await me.say("/deleteme")
    assert await me.press(shown, t("th", "privacy.delete_yes"))

    _assert_clean(server_log.getvalue())


def _assert_clean(log: str) -> None:
    leaked = sorted({s for s in SECRETS if s in log})
    assert not leaked, f"{leaked} in the log:\n" + "\n".join(
        line for line in log.splitlines() if any(s in line for s in leaked)
    )


def _refusing_inbox(dialect: str) -> list[str]:
    """DDL that makes the database refuse every new inbox row (a full disk, a broken
    constraint: any write the database turns down while a member's words are being stored)."""
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER refuse_inbox BEFORE INSERT ON inbox "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
    return [
        "CREATE FUNCTION refuse_inbox() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
        "CREATE TRIGGER refuse_inbox BEFORE INSERT ON inbox "
        "FOR EACH ROW EXECUTE FUNCTION refuse_inbox()",
    ]


def _accepting_inbox(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER refuse_inbox"]
    return ["DROP TRIGGER refuse_inbox ON inbox", "DROP FUNCTION refuse_inbox()"]


async def test_a_refused_write_does_not_copy_the_members_words_into_the_log(
    tg: TelegramWorld, server_log: io.StringIO
) -> None:
    me = Person(tg, MEMBER)
    await _sign_up(me)
    dialect = tg.app.engine.dialect.name
    async with tg.app.engine.begin() as connection:
        for statement in _refusing_inbox(dialect):
            await connection.execute(text(statement))
    try:
        answer = await me.say(f"{WORDS}, call me on {PHONE_TYPED}")
    finally:
        async with tg.app.engine.begin() as connection:
            for statement in _accepting_inbox(dialect):
                await connection.execute(text(statement))

    assert answer, "the member got no answer (an apology was due)"
    log = server_log.getvalue()
    assert "refused" in log, "the failure was not logged at all"
    _assert_clean(log)


async def test_a_row_postgresql_refuses_is_not_quoted_in_the_log(
    tg: TelegramWorld, server_log: io.StringIO
) -> None:
    """PostgreSQL's error for a row a constraint refuses quotes the whole row in its DETAIL
    ("Failing row contains (…, the member's words, …)"): the log keeps the error, not the row."""
    if tg.app.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's DETAIL")
    me = Person(tg, MEMBER)
    await _sign_up(me)
    refuse = "ALTER TABLE inbox ADD CONSTRAINT refuse_inbox CHECK (false) NOT VALID"
    async with tg.app.engine.begin() as connection:
        await connection.execute(text(refuse))
    try:
        answer = await me.say(f"{WORDS},\ncall me on {PHONE_TYPED}")
    finally:
        async with tg.app.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE inbox DROP CONSTRAINT refuse_inbox"))

    assert answer, "the member got no answer (an apology was due)"
    log = server_log.getvalue()
    assert 'violates check constraint "refuse_inbox"' in log, "the failure was not logged"
    assert "INSERT INTO inbox" in log  # the statement stays: the log still says what failed
    _assert_clean(log)


async def test_a_line_members_words_and_erasure_leave_nothing_in_the_log(
    line: Line, server_log: io.StringIO
) -> None:
    """The same on LINE: signed follow, a member's words, /mydata, /deleteme and its postback;
    a follow of someone LINE gives no profile for is logged by the chat id only."""
    await make_member(line.app, NAME, PHONE_TYPED, user_id=LINE_USER, channel=Channel.LINE)
    now, token = line.app.clock.now(), line.fake.issue_reply_token
    stranger = "U0000000000000000000000000000dead"
    assert await line.post(follow_event(stranger, token(stranger), now)) == 200
    for said in (f"{WORDS}, {PHONE_TYPED}", "/mydata", "/points", "/deleteme"):
        assert await line.post(text_event(LINE_USER, said, token(LINE_USER), now)) == 200
    assert await line.post(postback_event(LINE_USER, "del:yes", token(LINE_USER), now)) == 200
    _assert_clean(server_log.getvalue())
