"""A real shop from an empty database, through the public interface only: the ``chatcrm``
command line and the chat over Telegram's webhook (the fake Bot API). No SQL and no rows put
in by the test: everything the shop holds was typed by its owner, its cashier, its members or
an operator at the shell.

The owner is invited from the shell, claims, and is walked through the set-up (name, five
branches); the cashier is invited to Asoke from the chat; two members sign up, choosing their
home branch; the cashier records a sale; a Loyverse file naming the branches by Thai name,
English name and code is imported; a campaign to Asoke's members is previewed and sent.

The command line opens the database from ``CHATCRM_DATABASE_URL`` as in a shell, so the test
gives it an empty database of its own that the web app shares: a SQLite file, or, when the
suite runs on PostgreSQL (``CHATCRM_TEST_DATABASE_URL``), an empty schema of that database
named in the URL's ``options``. Creating and dropping that schema is the only SQL here.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.bootstrap import bootstrap
from bot.cli import main
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import callback_update, contact_update, text_update
from storage.db import create_engine, is_sqlite
from tests.e2e.telegram_world import TelegramWorld, telegram_world

OWNER, CASHIER, PLOY, NOK = 810001, 810002, 810003, 810004
FIVE = (
    ("asoke", "อโศก", "Asoke"),
    ("sukhumvit", "สุขุมวิท", "Sukhumvit"),
    ("phetchaburi", "เพชรบุรี", "Phetchaburi"),
    ("ratchada", "รัชดา", "Ratchada"),
    ("dindaeng", "ดินแดง", "Din Daeng"),
)
#: Loyverse's receipts export: the Store column names branches as the POS does
HEADER = (
    "Date,Receipt number,Receipt type,Gross sales,Discounts,Net sales,Store,POS,"
    "Customer name,Customer contacts,Status\n"
)
LOYVERSE = (
    HEADER
    + """\
01/03/2569 10:05,1-2001,Sale,130.00,10.00,120.00,อโศก,POS 1,Ploy,081-234-5678,Closed
2026-03-01 11:30,1-2002,Sale,55.00,0.00,55.00,Sukhumvit,POS 1,Ploy,081-234-5678,Closed
2026-03-01 12:00,1-2003,Sale,75.00,0.00,75.00,phetchaburi,POS 1,Nok,089-111-2222,Closed
2026-03-01 12:30,1-2004,Sale,80.00,0.00,80.00,รัชดา,POS 1,Nok,089-111-2222,Closed
2026-03-01 13:00,1-2005,Sale,90.00,0.00,90.00,Din Daeng,POS 1,Nok,089-111-2222,Closed
2026-03-01 13:30,1-2006,Sale,90.00,0.00,90.00,Din Daeng,POS 1,,,Closed
"""
)


class People:
    """Everyone typing into Telegram; each answer is what the fake Bot API received since."""

    def __init__(self, world: TelegramWorld) -> None:
        self.world = world
        self.ids = itertools.count(20_000)

    async def _post(self, user: int, update: dict[str, Any]) -> list[Any]:
        before = len(self.world.fake.sent(user))
        assert await self.world.post(update) == 200
        return self.world.fake.sent(user)[before:]

    async def say(self, user: int, text: str) -> list[Any]:
        return await self._post(user, text_update(next(self.ids), user, text))

    async def share_contact(self, user: int, phone: str) -> list[Any]:
        return await self._post(user, contact_update(next(self.ids), user, phone))

    async def press(self, user: int, label: str) -> list[Any]:
        """Press the button labelled ``label`` on the last message that has one."""
        for message in reversed(self.world.fake.sent(user)):
            buttons = message.callback_data()
            if label in buttons:
                return await self._post(user, callback_update(next(self.ids), user, buttons[label]))
        raise AssertionError(f"no button {label!r} was sent to {user}")


def text_of(messages: list[Any]) -> str:
    return html.unescape("\n".join(m.text for m in messages))


async def shell(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``chatcrm ARGV`` as in a shell (its own event loop); its standard output."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


async def _schema(url: str, *statements: str) -> None:
    admin = create_engine(url)
    try:
        async with admin.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database for this test alone."""
    server = os.environ.get("CHATCRM_TEST_DATABASE_URL")
    if not server or is_sqlite(server):
        yield f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
        return
    schema = f"chatcrm_zero_{os.getpid()}"
    await _schema(server, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        await _schema(server, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def empty_shop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_database: str) -> Settings:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("CHATCRM_DATABASE_URL", empty_database)
    for name in ("TELEGRAM_BOT_TOKEN", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None)  # type: ignore[call-arg]


async def owner_sets_up_the_shop(people: People, code: str) -> None:
    shown = text_of(await people.say(OWNER, f"/claim {code}"))
    assert t("th", "setup.start") in shown
    await people.say(OWNER, "ชาไทย ป้าแดง")
    await people.say(OWNER, "Auntie Daeng's Thai Tea")
    for branch, name_th, name_en in FIVE:
        await people.say(OWNER, branch)
        await people.say(OWNER, name_th)
        added = text_of(await people.say(OWNER, name_en))
        assert t("th", "setup.branch_added", code=branch, name_th=name_th, name_en=name_en) in added
    await people.press(OWNER, t("th", "setup.branches_done"))
    assert text_of(await people.press(OWNER, t("th", "setup.keep_rules"))) == t("th", "setup.done")


async def member_signs_up(people: People, user: int, name: str, phone: str, home: str) -> None:
    await people.say(user, "/start")
    await people.press(user, t("th", "signup.accept"))
    await people.press(user, t("th", "signup.marketing_yes"))
    await people.say(user, name)
    await people.share_contact(user, phone)
    await people.say(user, "01/05/2530")
    offered = await people.press(user, t("th", "signup.gender_female"))
    assert set(offered[-1].callback_data()) == {*(b[1] for b in FIVE), t("th", "signup.skip")}
    card = await people.press(user, home)
    assert card[-1].method == "sendPhoto"


async def campaign_to_asoke(people: People) -> int:
    await people.say(OWNER, "/segment new asoke-home home_branch = asoke")
    await people.say(OWNER, "/campaign new Asoke regulars")
    await people.say(OWNER, "asoke-home")
    await people.say(OWNER, "คุณ{name} แวะมาที่สาขาอโศกนะคะ")
    await people.press(OWNER, t("th", "campaign.offer_none"))
    await people.say(OWNER, "-")
    await people.press(OWNER, t("th", "campaign.when_now"))
    saved = await people.say(OWNER, "0")
    preview = saved[-1].callback_data()[t("th", "campaign.preview_button")]
    found = re.search(r"preview (\d+)", preview)
    assert found is not None
    return int(found.group(1))


@pytest.mark.db  # also on PostgreSQL when the suite runs there
async def test_a_shop_from_an_empty_database_to_its_first_campaign(
    empty_shop: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    invite = await shell(capsys, "staff", "invite", "--role", "owner")
    owner_code = invite.strip().splitlines()[-1]
    clock = FrozenClock(datetime(2026, 3, 3, 7, 30, tzinfo=UTC))  # a Tuesday, 14:30 in Bangkok
    app = await bootstrap(empty_shop, clock=clock)
    try:
        async with telegram_world(app) as world:
            people = People(world)
            await owner_sets_up_the_shop(people, owner_code)
            listed = await shell(capsys, "branch", "list")
            assert [line.split()[0] for line in listed.splitlines()] == [b[0] for b in FIVE]

            invited = text_of(await people.say(OWNER, "/staff invite cashier asoke"))
            cashier_code = re.findall(r"/claim (\S+)", invited)[-1]
            await people.say(CASHIER, f"/claim {cashier_code}")

            await member_signs_up(people, PLOY, "Ploy", "66812345678", "อโศก")
            await member_signs_up(people, NOK, "Nok", "66891112222", "สุขุมวิท")
            sold = text_of(await people.say(CASHIER, "/sale 081-234-5678 150"))
            assert "150" in sold
            assert "อโศก" in sold

            sales = tmp_path / "loyverse-receipts.csv"
            sales.write_text(LOYVERSE, encoding="utf-8")
            report = await shell(capsys, "import", "sales", str(sales))
            assert re.search(r"Created\D+5\b", report), report
            assert re.search(r"Rows with errors\D+0\b", report), report
            assert re.search(r"Skipped\D+1\b", report), report  # the anonymous receipt

            campaign_id = await campaign_to_asoke(people)
            preview = text_of(await people.say(OWNER, f"/campaign preview {campaign_id}"))
            assert "จะส่งถึง: 1 คน" in preview
            assert "คุณPloy แวะมาที่สาขาอโศกนะคะ" in preview
            await people.say(OWNER, f"/campaign send {campaign_id}")
            await people.press(OWNER, t("th", "campaign.confirm_button"))
            dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: world.channel})
            for _ in range(3):
                await dispatcher.drain_once()
            assert any("คุณPloy แวะมาที่สาขาอโศกนะคะ" in m.text for m in world.fake.sent(PLOY))
            assert not any("แวะมาที่สาขาอโศก" in m.text for m in world.fake.sent(NOK))
    finally:
        await app.close()
