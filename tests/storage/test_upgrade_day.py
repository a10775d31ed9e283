"""Upgrade day: a shop run by chatcrm 6377c7e (schema 0019) with work in flight is upgraded by
this chatcrm; nothing is lost or doubled, and what was waiting carries on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from storage.migrate import upgrade
from storage.models import Base
from tests.chat import Chat
from tests.storage.upgrade_day_support import (
    MORNING,
    NIGHT,
    NOTES,
    old_shop,
    scalar,
    tallies,
)
from tests.unit.dispatcher_support import FakeLine, FakeTelegram

pytestmark = pytest.mark.db

CODES = NOTES["codes"]
#: the chat messages still queued (the console's go to its own terminal, not a dispatcher)
PENDING = "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND channel <> 'console'"


async def _upgraded(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> App:
    await upgrade(engine)
    return await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_upgrade_keeps_every_row_balance_coupon_sale_and_queued_message(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "upkeep") as engine:
        before = await tallies(engine)
        await upgrade(engine)
        assert await tallies(engine) == before
        await upgrade(engine)  # a second start changes nothing either
        assert await tallies(engine) == before


async def test_the_upgraded_old_shop_has_exactly_the_schema_the_models_describe(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "upschema") as engine:
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []


async def test_the_report_reads_the_same_numbers_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upreport") as engine:
        app = await _upgraded(engine, settings, FrozenClock(NIGHT))
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.say("/report")
        assert owner.text() == NOTES["report"]


async def test_the_queued_campaign_goes_on_once_to_each_recipient_not_yet_sent(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upsend") as engine:
        clock = FrozenClock(MORNING)
        app = await _upgraded(engine, settings, clock)
        waiting = await scalar(engine, PENDING)
        async with engine.connect() as connection:
            queued = Counter(
                (await connection.execute(text(PENDING.replace("COUNT(*)", "user_id"))))
                .scalars()
                .all()
            )
        telegram, line = FakeTelegram(), FakeLine()
        channels = {Channel.TELEGRAM: telegram, Channel.LINE: line}
        dispatcher = OutboxDispatcher(app.uow, clock, channels)
        for _ in range(5):
            await dispatcher.drain_once()
        assert waiting == 39  # the afternoon's campaign's rest, and the night's held one
        assert await scalar(engine, PENDING) == 0
        assert len(telegram.pushes) + len(line.pushes) == waiting
        sent_rows = await scalar(engine, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        assert sent_rows == 32 + waiting  # the old release had sent 32
        assert Counter(push.user_id for push in telegram.pushes + line.pushes) == queued


async def test_an_over_cap_sale_left_waiting_can_be_approved_after_the_upgrade(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upapprove") as engine:
        app = await _upgraded(engine, settings, FrozenClock(MORNING))
        approval = await scalar(engine, "SELECT id FROM sale_approvals WHERE receipt_no = 'R-900'")
        balance = await scalar(
            engine, "SELECT points_balance FROM members WHERE member_code = :c", c=CODES["Ploy"]
        )
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.press(f"apv:y:{approval}")
        await owner.press(f"apv:y:{approval}")  # the old message's button, pressed twice
        assert await scalar(engine, "SELECT COUNT(*) FROM sales WHERE receipt_no = 'R-900'") == 1
        after = await scalar(
            engine, "SELECT points_balance FROM members WHERE member_code = :c", c=CODES["Ploy"]
        )
        assert isinstance(after, int)
        assert isinstance(balance, int)
        assert after > balance


async def test_receipts_become_per_branch_for_the_old_sales_and_the_waiting_one(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upreceipt") as engine:
        app = await _upgraded(engine, settings, FrozenClock(MORNING))
        asoke = Chat(app, user_id="up-ca", language_code="en")
        sukhumvit = Chat(app, user_id="up-cs", language_code="en")
        await sukhumvit.say(f"/sale {CODES['Ploy']} 100 receipt=R-100")  # Asoke's number
        await asoke.say(f"/sale {CODES['Ploy']} 300 receipt=R-100")  # Asoke's again: a replay
        await sukhumvit.say(f"/sale {CODES['Nok']} 150 receipt=R-900")  # waits at Asoke
        count = "SELECT COUNT(*) FROM sales WHERE receipt_no = :r"
        assert await scalar(engine, count, r="R-100") == 2
        assert await scalar(engine, count, r="R-900") == 1
        assert await scalar(engine, "SELECT COUNT(*) FROM sale_approvals") == 2
