"""Removing a staff member through the web console (over HTTP) while messages to them are
still queued, then the outbox drained through the real Telegram adapter to the fake Bot API.

A manager is let go; the customers' words the shop had queued for them (inbox alerts quote
the customer's text: addresses, phone numbers) must not reach them after they are removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.admin.security import COOKIE
from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.keys import digest_key, staff_message_key
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from bot.i18n import t
from jobs.digest import run_digest
from jobs.dispatcher import OutboxDispatcher
from storage.models import Staff
from storage.raw_session import session_of
from tests.chat import Chat
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.admin_support import ask_link, console_client, open_link, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

OWNER, MANAGER, CUSTOMER = 5550001, 5550002, 5550003
DIGEST_TIME = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 on 3 March in Bangkok
SECRET_TEXT = "ที่อยู่ใหม่ 12 สุขุมวิท ซอย 3 โทร 089-999-9999"


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def _staff_id(app: App, user_id: int) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(Staff.id).where(Staff.user_id == str(user_id)))
        return int(found.scalar_one())


async def test_a_removed_manager_gets_the_removal_notice_and_no_customer_text(
    app: App, tg: TelegramWorld
) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, str(OWNER), "owner", language_code="en")
    manager = await staff_chat(app, str(MANAGER), "manager", "asoke", language_code="en")
    await manager.say("/help")  # the manager has used the bot (their identity is known)
    await make_member(app, "Ploy", "0810000001", user_id=str(CUSTOMER), home_branch_code="asoke")
    await Chat(app, user_id=str(CUSTOMER)).say(SECRET_TEXT)  # alerts queued for the staff
    manager_id = await _staff_id(app, MANAGER)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get(f"/admin/staff/{manager_id}/remove")
        removed = await browser.post(f"/admin/staff/{manager_id}/remove", {})
        assert removed.status == 303
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: tg.channel})
    await dispatcher.drain_once()
    to_owner = " ".join(call.text for call in tg.fake.sent(OWNER))
    to_manager = [call.text for call in tg.fake.sent(MANAGER)]
    assert SECRET_TEXT[:20] in to_owner  # the owner's alert went out
    assert to_manager == [t("en", "staff.you_were_removed")]


async def test_a_sign_in_link_asked_before_the_removal_no_longer_signs_in(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, str(OWNER), "owner", language_code="en")
    manager = await staff_chat(app, str(MANAGER), "manager", "asoke", language_code="en")
    manager_id = await _staff_id(app, MANAGER)
    async with console_client(app) as client:
        token = await ask_link(manager)
        browser = await signed_in(client, owner)
        removed = await browser.post(f"/admin/staff/{manager_id}/remove", {})
        assert removed.status == 303
        answer = await open_link(client, token)
        assert answer.status == 403
        assert "Set-Cookie" not in answer.headers or COOKIE not in answer.headers["Set-Cookie"]


async def test_a_removed_manager_does_not_get_the_digest_queued_for_them(
    app: App, tg: TelegramWorld, clock: FrozenClock
) -> None:
    """The digest holds the shop's (or the branch's) figures of yesterday: queued at the
    digest hour, it must not go out to a manager removed before it was sent."""
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, str(OWNER), "owner", language_code="en")
    manager = await staff_chat(app, str(MANAGER), "manager", "asoke", language_code="en")
    await manager.say("/help")
    clock.set(DIGEST_TIME)
    assert await run_digest(app) == {"queued": 2}
    manager_id = await _staff_id(app, MANAGER)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        removed = await browser.post(f"/admin/staff/{manager_id}/remove", {})
        assert removed.status == 303
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: tg.channel})
    await dispatcher.drain_once()
    assert len(tg.fake.sent(OWNER)) == 1  # the owner's digest went out
    assert [call.text for call in tg.fake.sent(MANAGER)] == [t("en", "staff.you_were_removed")]


async def test_withdrawing_one_persons_messages_leaves_a_digest_to_a_longer_id(
    app: App, clock: FrozenClock
) -> None:
    """Staff 1's withdrawal matches ``digest:<day>:1`` only, not ``digest:<day>:11`` or
    ``digest:<day>:21``, nor the alerts of staff 11."""
    day = DIGEST_TIME.date()
    keys = [digest_key(day, 1), digest_key(day, 11), digest_key(day, 21)]
    keys += [staff_message_key("inbox:7", 1), staff_message_key("inbox:7", 11)]
    payload = replies_to_payload([Reply(text="x")])
    async with app.uow() as uow:
        for number, key in enumerate(keys):
            assert await uow.outbox.enqueue(key, "telegram", str(number), payload, clock.now())
        withdrawn = await uow.withdrawals.staff_messages(1)
        await uow.commit()
    assert sorted(withdrawn) == sorted([digest_key(day, 1), staff_message_key("inbox:7", 1)])
