"""A campaign sent shortly before the quiet hours whose Telegram messages cannot all go out
before they begin: Telegram takes at most ``TELEGRAM_RATE`` messages a second, so the rest
wait for the morning (and, on the offer's last evening, are withdrawn unsent). The preview
says so; a send that fits before 21:00 says nothing of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from tests.domain.campaign_support import make_campaign
from tests.unit.staff_support import make_member, staff_chat

#: 20:50 in Bangkok, ten minutes before the default quiet hours (21:00-09:00)
EVENING = datetime(2026, 3, 3, 13, 50, tzinfo=UTC)
LAST_DAY = date(2026, 3, 3)


async def _preview(app: App, language: str, offer_until: date | None = None) -> str:
    for n in range(6):
        await make_member(app, f"Member {n}", f"081111111{n}", user_id=f"m{n}")
    manager = await staff_chat(app, "boss", "manager", language_code=language)
    offer = None
    if offer_until is not None:
        offer = {"kind": "buy_x_get_y", "value": "1-1", "valid_until": offer_until.isoformat()}
    campaign = await make_campaign(app, holdout_pct=0, offer=offer)
    replies = await manager.say(f"/campaign preview {campaign.id}")
    return "\n".join(reply.text for reply in replies)


async def test_messages_telegram_cannot_send_before_21_00_are_said_to_wait(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(EVENING)
    monkeypatch.setattr(app.settings, "telegram_rate", 0.005)  # 6 messages: 20 minutes
    text = await _preview(app, "en")
    assert "Sending 6 Telegram messages takes at least 20 min" in text
    assert "will not be sent" not in text  # no offer that ends


async def test_on_the_offers_last_evening_the_preview_says_they_are_withdrawn(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(EVENING)
    monkeypatch.setattr(app.settings, "telegram_rate", 0.005)
    text = await _preview(app, "th", LAST_DAY)
    assert "อย่างน้อย 20 นาที" in text
    assert "จะไม่ถูกส่ง" in text


async def test_a_send_that_ends_before_21_00_says_nothing_of_the_quiet_hours(
    app: App, clock: FrozenClock
) -> None:
    clock.set(EVENING)
    text = await _preview(app, "en", LAST_DAY)
    assert "quiet hours" not in text
