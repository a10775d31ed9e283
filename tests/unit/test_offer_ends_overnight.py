"""A campaign sent on its offer's last day in the evening: the quiet hours hold its messages
until the morning, when the offer is over. They are withdrawn unsent, not delivered as an offer
nobody can use, and the owner is told at send time that the night will cost part of the
audience."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from shop.campaigns.stats import compute_stats
from tests.domain.campaign_support import make_campaign
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.staff_support import make_member, staff_chat

#: 22:00 in Bangkok on the offer's last day, inside the default quiet hours (21:00-09:00)
NIGHT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
#: 09:05 the next morning in Bangkok: the offer ended at midnight
MORNING = datetime(2026, 3, 4, 2, 5, tzinfo=UTC)
LAST_DAY = date(2026, 3, 3)


def _offer(last_day: date) -> dict[str, object]:
    return {"kind": "buy_x_get_y", "value": "1-1", "valid_until": last_day.isoformat()}


async def _send(app: App, language: str, last_day: date) -> tuple[int, str]:
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    manager = await staff_chat(app, "boss", "manager", language_code=language)
    campaign = await make_campaign(app, holdout_pct=0, offer=_offer(last_day))
    await manager.say(f"/campaign send {campaign.id}")
    replies = await manager.press(f"cmpa:send:{campaign.id}")
    return campaign.id, "\n".join(reply.text for reply in replies)


async def test_a_promotion_held_past_its_offers_end_is_withdrawn_unsent(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    campaign_id, _ = await _send(app, "en", LAST_DAY)
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    assert (await dispatcher.drain_once()).sent == 0  # held by the quiet hours

    clock.set(MORNING)
    result = await dispatcher.drain_once()

    assert telegram.pushes == []
    assert (result.sent, result.withdrawn) == (0, 1)
    async with app.uow() as uow:
        stats = await compute_stats(uow, campaign_id, app.clock.now())
    assert (stats.recipients.sent, stats.recipients.withdrawn, stats.recipients.pending) == (
        0,
        1,
        0,
    )
    assert stats.status == "sent"


async def test_a_promotion_whose_offer_runs_on_still_goes_in_the_morning(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    await _send(app, "en", date(2026, 3, 4))
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    await dispatcher.drain_once()
    clock.set(MORNING)
    result = await dispatcher.drain_once()
    assert (result.sent, result.withdrawn) == (1, 0)


async def test_sending_on_the_offers_last_evening_warns_the_owner(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    _, text = await _send(app, "en", LAST_DAY)
    assert "quiet hours" in text
    assert "will not be sent" in text


async def test_sending_on_the_offers_last_evening_warns_the_owner_in_thai(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    _, text = await _send(app, "th", LAST_DAY)
    assert "ช่วงงดส่ง" in text
    assert "จะไม่ถูกส่ง" in text


async def test_one_claim_of_two_campaigns_withdraws_only_the_ended_offers_messages(
    app: App, clock: FrozenClock
) -> None:
    """Rows of several campaigns in one claim, several members each: each row is judged by
    its own campaign's offer."""
    clock.set(NIGHT)
    for n in range(3):
        await make_member(app, f"Member {n}", f"081111111{n}", user_id=f"m{n}")
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    ended = await make_campaign(app, holdout_pct=0, offer=_offer(LAST_DAY))
    running = await make_campaign(app, holdout_pct=0, offer=_offer(date(2026, 3, 4)))
    for campaign in (ended, running):
        await manager.say(f"/campaign send {campaign.id}")
        await manager.press(f"cmpa:send:{campaign.id}")
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    await dispatcher.drain_once()

    clock.set(MORNING)
    result = await dispatcher.drain_once()

    assert (result.sent, result.withdrawn) == (3, 3)
    async with app.uow() as uow:
        gone = await compute_stats(uow, ended.id, app.clock.now())
        went = await compute_stats(uow, running.id, app.clock.now())
    assert (gone.recipients.sent, gone.recipients.withdrawn) == (0, 3)
    assert (went.recipients.sent, went.recipients.withdrawn) == (3, 0)
