"""Sending or scheduling a campaign inside the quiet hours says when the messages will go out,
as the preview does: a campaign sent at 22:00 that nobody receives until morning must not look
lost to the owner."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from tests.domain.campaign_support import make_campaign
from tests.unit.staff_support import make_member, staff_chat

#: 22:00 in Bangkok, inside the default quiet hours (21:00-09:00)
NIGHT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
#: 14:00 in Bangkok
AFTERNOON = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def _send(app: App, language: str, **fields: object) -> str:
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    manager = await staff_chat(app, "boss", "manager", language_code=language)
    campaign = await make_campaign(app, holdout_pct=0, **fields)
    await manager.say(f"/campaign send {campaign.id}")
    replies = await manager.press(f"cmpa:send:{campaign.id}")
    return "\n".join(reply.text for reply in replies)


@pytest.mark.parametrize(("language", "said"), [("en", "quiet hours"), ("th", "ช่วงงดส่ง")])
async def test_a_campaign_sent_at_night_says_it_waits_until_nine(
    app: App, clock: FrozenClock, language: str, said: str
) -> None:
    clock.set(NIGHT)
    text = await _send(app, language)
    assert said in text
    assert "09:00" in text


async def test_a_campaign_sent_in_the_afternoon_says_nothing_of_quiet_hours(
    app: App, clock: FrozenClock
) -> None:
    clock.set(AFTERNOON)
    text = await _send(app, "en")
    assert "is going out" in text
    assert "quiet" not in text


async def test_a_campaign_scheduled_for_the_night_says_it_will_wait(
    app: App, clock: FrozenClock
) -> None:
    clock.set(AFTERNOON)
    text = await _send(app, "en", scheduled_at=NIGHT)
    assert "scheduled" in text
    assert "within quiet hours" in text
    assert "09:00" in text


async def test_a_campaign_scheduled_for_the_afternoon_says_nothing_of_quiet_hours(
    app: App, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    text = await _send(app, "en", scheduled_at=AFTERNOON.replace(day=4))
    assert "scheduled" in text
    assert "quiet" not in text
