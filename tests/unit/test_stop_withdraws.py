"""/stop is immediate (issue 15, item 3): a promotion queued, deferred by the quiet hours or
waiting for its turn behind the rate limit never goes out after /stop, erasure or a block;
receipts and other transactional messages still go. Through the chat and the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from shop.campaigns.stats import compute_stats
from shop.notices import queue_member_notice
from storage.models import Member
from tests.chat import Chat
from tests.domain.campaign_support import campaign_row, make_campaign
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.staff_support import ensure_branches, member_chat, outbox_rows, staff_chat

#: 22:00 in Bangkok, inside the default quiet hours (21:00-09:00)
NIGHT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
#: 09:05 the next morning in Bangkok
MORNING = datetime(2026, 3, 4, 2, 5, tzinfo=UTC)


def _dispatcher(app: App, telegram: FakeTelegram) -> OutboxDispatcher:
    # one worker: the requests of a pass go one after the other, as behind the rate limit
    return OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}, concurrency=1)


def pushed(telegram: FakeTelegram, user_id: str) -> list[str]:
    return [text for push in telegram.pushes if push.user_id == user_id for text in push.texts]


async def _send_campaign(app: App, manager: Chat) -> int:
    """A campaign to every member (no hold-out), sent by the manager in chat."""
    campaign = await make_campaign(app, holdout_pct=0)
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    return campaign.id


async def _racing_launch(app: App, campaign_id: int, member_id: int) -> None:
    """The row a launch writes when it read the member's consent just before a /stop or an
    erasure committed, and queued its row just after."""
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="Khun Ploy, 1-get-1")])
        key = f"cmp:{campaign_id}:{member_id}"
        now = app.clock.now()
        await uow.outbox.enqueue(
            key, "telegram", "m1", payload, now, member_id=member_id, promotional=True
        )
        await uow.commit()


async def test_a_queued_promotion_is_withdrawn_by_stop_and_the_receipt_still_goes(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "boss", "manager")
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy_chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await member_chat(app, "Nok", "0822222222", user_id="m2")
    campaign_id = await _send_campaign(app, manager)
    assert len(await outbox_rows(app, "cmp:")) == 2

    await ploy_chat.say("/stop")
    await cashier.say(f"/sale {ploy.member_code} 120 receipt=R1")
    telegram = FakeTelegram()
    result = await _dispatcher(app, telegram).drain_once()

    assert [text for text in pushed(telegram, "m1") if "1-get-1" in text or "แถม" in text] == []
    assert len(pushed(telegram, "m1")) == 1  # the receipt
    assert "R1" in pushed(telegram, "m1")[0]
    assert len(pushed(telegram, "m2")) == 1  # Nok did not stop
    assert (result.sent, result.withdrawn) == (2, 0)  # withdrawn by /stop, before the claim
    async with app.uow() as uow:
        stats = await compute_stats(uow, campaign_id, app.clock.now())
    recipients = stats.recipients
    assert (recipients.sent, recipients.withdrawn, recipients.pending) == (1, 1, 0)
    assert stats.status == "sent"


async def test_a_claimed_promotion_waiting_for_its_turn_is_not_sent_after_stop(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    chats = {
        "m1": (await member_chat(app, "Ploy", "0811111111", user_id="m1"))[0],
        "m2": (await member_chat(app, "Nok", "0822222222", user_id="m2"))[0],
    }
    campaign_id = await _send_campaign(app, manager)
    first, second = await outbox_rows(app, "cmp:")
    late = chats[second.user_id]

    async def stop_while_the_first_goes() -> None:
        if not telegram.pushes:  # the second member stops; their row waits its turn
            await late.say("/stop")
            clock.advance(timedelta(seconds=9))

    telegram = FakeTelegram(on_push=stop_while_the_first_goes)
    result = await _dispatcher(app, telegram).drain_once()

    assert [push.user_id for push in telegram.pushes] == [first.user_id]
    assert (result.sent, result.withdrawn) == (1, 1)
    assert (await campaign_row(app, campaign_id)).status == "sent"


async def test_a_promotion_queued_by_a_launch_racing_stop_is_withdrawn_when_claimed(
    app: App,
) -> None:
    ploy_chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, status="sending")
    await ploy_chat.say("/stop")
    await _racing_launch(app, campaign.id, ploy.id)

    telegram = FakeTelegram()
    result = await _dispatcher(app, telegram).drain_once()

    assert telegram.pushes == []
    assert result.withdrawn == 1
    [row] = await outbox_rows(app, "cmp:")
    assert row.status == "cancelled"
    assert (await campaign_row(app, campaign.id)).status == "sent"  # the withdrawal finished it


async def test_a_promotion_deferred_by_quiet_hours_is_not_sent_after_stop(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "boss", "manager")
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy_chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await _send_campaign(app, manager)
    telegram = FakeTelegram()
    dispatcher = _dispatcher(app, telegram)
    assert (await dispatcher.drain_once()).deferred == 1

    await ploy_chat.say("/stop")
    await cashier.say(f"/sale {ploy.member_code} 120 receipt=R1")
    await dispatcher.drain_once()  # the receipt is not a promotion: the quiet hours let it go
    clock.set(MORNING)
    await dispatcher.drain_once()

    assert len(pushed(telegram, "m1")) == 1
    assert "R1" in pushed(telegram, "m1")[0]


async def test_a_deferred_promotion_to_a_member_who_blocked_the_bot_is_withdrawn(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    manager = await staff_chat(app, "boss", "manager")
    ploy_chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await _send_campaign(app, manager)
    telegram = FakeTelegram()
    dispatcher = _dispatcher(app, telegram)
    assert (await dispatcher.drain_once()).deferred == 1
    await ploy_chat.unfollow()  # blocked the bot (Telegram's my_chat_member, LINE's unfollow)
    async with app.uow() as uow:  # a transactional message to that chat is still tried
        payload = replies_to_payload([Reply(text="Your points expire soon")])
        await uow.outbox.enqueue("notice:1", "telegram", "m1", payload, clock.now(), ploy.id)
        await uow.commit()

    clock.set(MORNING)
    result = await dispatcher.drain_once()

    assert pushed(telegram, "m1") == ["Your points expire soon"]
    assert (result.sent, result.withdrawn) == (1, 1)
    [row] = await outbox_rows(app, "cmp:")
    assert row.status == "cancelled"


async def test_an_erased_members_promotions_are_not_sent(app: App) -> None:
    ploy_chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, status="sending")
    async with app.uow() as uow:  # queued before the erasure: the campaign's only row
        payload = replies_to_payload([Reply(text="Khun Ploy, 1-get-1")])
        key = f"cmp:{campaign.id}:{ploy.id}"
        await queue_member_notice(uow, ploy.id, payload, key, app.clock.now(), promotional=True)
        await uow.commit()
    await ploy_chat.say("/deleteme")
    await ploy_chat.press("del:yes")
    assert (await campaign_row(app, campaign.id)).status == "sent"  # nothing left to send

    later = await make_campaign(app, status="sending")
    await _racing_launch(app, later.id, ploy.id)
    telegram = FakeTelegram()
    result = await _dispatcher(app, telegram).drain_once()

    assert telegram.pushes == []
    assert result.withdrawn == 1
    async with app.uow() as uow:
        member = await uow.members.get(ploy.id)
    assert isinstance(member, Member)
    assert member.erased_at is not None
