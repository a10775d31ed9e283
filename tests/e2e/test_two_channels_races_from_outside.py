"""One person on LINE and Telegram doing two things at once from the two apps, and coming and
going between them: signed webhooks to the real web app and the platform fakes on 127.0.0.1.
On PostgreSQL the two webhooks' transactions truly overlap; on SQLite they take turns."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.bootstrap import App
from bot.channels.telegram import SECRET_HEADER
from bot.core.clock import FrozenClock
from bot.core.messages import Button, Reply
from bot.i18n import t
from handlers.context import Context
from handlers.customer import fields
from handlers.customer.fields import FieldValue
from shop.coupons import display_code
from simulator.fakes.line_webhooks import follow_event
from simulator.fakes.telegram_updates import member_update
from simulator.world import TELEGRAM_PATH, TELEGRAM_SECRET, HttpWorld, http_world
from storage.models import Consent, Coupon, Member, OutboxMessage
from storage.repositories.erasure import Erasure
from storage.repositories.members import Members
from tests.domain.campaign_support import launch_now, make_campaign
from tests.e2e.test_two_channels_from_outside import (
    CASHIER,
    LINE,
    OWNER,
    TG,
    _accounts,
    _code,
    _linked,
    _post_line,
    _promotions,
)
from tests.unit.journey_support import rows
from tests.unit.rewards_support import make_coupon
from tests.unit.sales_support import balance
from tests.unit.staff_support import make_member, make_staff

#: how long an erasure waits, uncommitted, for the other app's edit to read its member (on
#: SQLite the edit waits for the erasure's commit instead, so this wait runs out)
MOMENT = 5.0


@pytest.fixture
async def world(app: App) -> AsyncIterator[HttpWorld]:
    async with http_world(app) as world:
        yield world


async def _post_telegram(world: HttpWorld, update: dict[str, Any]) -> int:
    """An update posted to the Telegram webhook with the webhook's secret header."""
    headers = {"Content-Type": "application/json", SECRET_HEADER: TELEGRAM_SECRET}
    url = world.base_url + TELEGRAM_PATH
    async with world.session.post(url, data=json.dumps(update), headers=headers) as response:
        return response.status


async def test_a_profile_edit_racing_the_erasure_from_the_other_app_brings_no_name_back(
    app: App, world: HttpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ploy = await _linked(app, world)
    await world.say("line", LINE, "/profile")
    await world.press("line", LINE, "prof:name")  # LINE now waits for the new name
    await world.say("telegram", TG, "/deleteme")
    erasing, reading = asyncio.Event(), asyncio.Event()
    read, erase = fields.read, Erasure.erase_member

    async def erase_then_wait(self: Erasure, member: Member, now: datetime) -> None:
        # the erasure has done its work and holds its locks; before it commits, the LINE
        # edit (its member loaded) reads the new name: the moment two webhooks of one person
        # can meet (bounded, should the edit wait for the erasure instead)
        await erase(self, member, now)
        erasing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reading.wait(), MOMENT)

    async def read_and_tell(ctx: Context, step: str) -> FieldValue:
        value = await read(ctx, step)
        reading.set()
        return value

    monkeypatch.setattr(Erasure, "erase_member", erase_then_wait)
    monkeypatch.setattr(fields, "read", read_and_tell)
    erasure = asyncio.create_task(world.press("telegram", TG, "del:yes"))
    await erasing.wait()
    await world.say("line", LINE, "Mallika Srisuk")
    await erasure
    [gone] = await rows(app, Member, Member.id == ploy.id)
    assert gone.erased_at is not None
    assert gone.name is None


async def test_a_resume_racing_the_erasure_from_the_other_app_grants_no_consent(
    app: App, world: HttpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ploy = await _linked(app, world, marketing=False)
    await world.say("telegram", TG, "/deleteme")
    erasing, consenting = asyncio.Event(), asyncio.Event()
    erase, record = Erasure.erase_member, Members.record_consent

    async def erase_then_wait(self: Erasure, member: Member, now: datetime) -> None:
        await erase(self, member, now)  # then commits once /resume has its member (bounded)
        erasing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consenting.wait(), MOMENT)

    async def tell_then_record(self: Members, member_id: int, purpose: str, *rest: Any) -> None:
        if rest[0]:  # the grant of /resume (the erasure records withdrawals)
            consenting.set()
        await record(self, member_id, purpose, *rest)

    monkeypatch.setattr(Erasure, "erase_member", erase_then_wait)
    monkeypatch.setattr(Members, "record_consent", tell_then_record)
    erasure = asyncio.create_task(world.press("telegram", TG, "del:yes"))
    await erasing.wait()
    await world.say("line", LINE, "/resume")
    await erasure
    [gone] = await rows(app, Member, Member.id == ploy.id)
    assert (gone.erased_at is not None, gone.marketing_opt_in) == (True, False)
    granted = Consent.purpose == "marketing", Consent.granted.is_(True)
    assert await rows(app, Consent, Consent.member_id == ploy.id, *granted) == []


async def test_a_language_press_racing_the_erasure_from_the_other_app_writes_nothing(
    app: App, world: HttpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ploy = await _linked(app, world)
    await world.say("telegram", TG, "/deleteme")
    erasing, choosing = asyncio.Event(), asyncio.Event()
    erase, reply = Erasure.erase_member, Context.reply

    async def erase_then_wait(self: Erasure, member: Member, now: datetime) -> None:
        await erase(self, member, now)  # then commits once the press is answered (bounded)
        erasing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(choosing.wait(), MOMENT)

    def tell_then_reply(self: Context, key: str, *buttons: Button, **params: Any) -> Reply:
        if key == "language.changed":  # the choice made, to be written at the commit
            choosing.set()
        return reply(self, key, *buttons, **params)

    monkeypatch.setattr(Erasure, "erase_member", erase_then_wait)
    monkeypatch.setattr(Context, "reply", tell_then_reply)
    erasure = asyncio.create_task(world.press("telegram", TG, "del:yes"))
    await erasing.wait()
    answer = await world.press("line", LINE, "lang:th")
    await erasure
    [gone] = await rows(app, Member, Member.id == ploy.id)
    assert (gone.erased_at is not None, gone.locale) == (True, "en")
    # told her membership is gone (PostgreSQL), or answered as the stranger she now is once
    # the erasure committed first (SQLite): never a failure
    assert answer in (t("en", "error.member_erased"), t("th", "language.changed"))


async def test_a_sale_racing_the_erasure_queues_nothing_to_either_erased_account(
    app: App, world: HttpWorld
) -> None:
    ploy = await _linked(app, world, points=300)
    await make_staff(app, CASHIER, "cashier", "asoke")
    await world.say("line", LINE, "/deleteme")
    await asyncio.gather(
        world.press("line", LINE, "del:yes"),
        world.say("telegram", CASHIER, f"/sale {ploy.member_code} 250 receipt=R1"),
    )
    queued = [(r.channel, r.user_id) for r in await rows(app, OutboxMessage)]
    assert ("telegram", TG) not in queued
    assert ("line", LINE) not in queued
    assert await _accounts(app, ploy.id) == set()


async def test_a_linked_line_account_that_follows_again_is_greeted_as_the_member(
    app: App, world: HttpWorld
) -> None:
    ploy = await _linked(app, world, points=40)
    await world.block("line", LINE)
    before = len(world.line.messages_to(LINE))
    token = world.line.issue_reply_token(LINE)
    assert (
        await _post_line(world, follow_event(LINE, token, app.clock.now(), unblocked=True)) == 200
    )
    greeting = " ".join(str(m.get("text")) for m in world.line.messages_to(LINE)[before:])
    assert "Hello Ploy" in greeting
    assert "Your points: 40" in await world.say("line", LINE, "/points")
    assert await _accounts(app, ploy.id) == {("telegram", TG), ("line", LINE)}


async def test_telegram_back_after_a_block_gets_the_campaign_again(
    app: App, world: HttpWorld, clock: FrozenClock
) -> None:
    ploy = await _linked(app, world)
    await world.block("telegram", TG)
    first = await make_campaign(app, holdout_pct=0, name="while blocked")
    await launch_now(app, first.id)
    assert await _promotions(app) == [("line", LINE, ploy.id)]
    clock.advance(timedelta(minutes=5))
    world.telegram.failures.clear()  # she unblocks the bot, and Telegram says so
    unblocked = member_update(9001, int(TG), "kicked", "member")
    assert await _post_telegram(world, unblocked) == 200
    await world.say("telegram", TG, "hi again")
    second = await make_campaign(app, holdout_pct=0, name="after")
    await launch_now(app, second.id)
    assert (await _promotions(app))[1:] == [("telegram", TG, ploy.id)]


async def test_an_owner_redeems_her_own_coupon_and_sells_to_herself(
    app: App, world: HttpWorld
) -> None:
    somchai = await make_member(app, "Somchai", user_id=OWNER, locale="en")
    await make_staff(app, OWNER, "owner", "asoke")
    coupon = await make_coupon(app, somchai.id)
    await world.say("telegram", OWNER, f"/redeem {display_code(coupon.code)}")
    [used] = await rows(app, Coupon, Coupon.id == coupon.id)
    assert used.status == "redeemed"
    await world.say("telegram", OWNER, f"/sale {somchai.member_code} 250 receipt=O1")
    assert await balance(app, somchai.id) == 10


async def test_a_members_own_code_sent_from_her_own_account_links_nothing_and_stays_live(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en")
    code = await _code(world, "telegram", TG)
    assert "already" in await world.say("telegram", TG, f"/link {code}")
    assert "Linked" in await world.say("line", LINE, f"/link {code}")  # not spent by that
    assert await _accounts(app, ploy.id) == {("telegram", TG), ("line", LINE)}
