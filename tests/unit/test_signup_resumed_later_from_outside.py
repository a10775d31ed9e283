"""A newcomer starts joining, answers a step or two, and comes back hours later the same day.
The sign-up says a person may leave it and come back later the same day (its conversation is
kept for 24 hours); that must hold after every answer, not only until the first one: the
next answer goes on with the sign-up, in the language they chose, instead of being taken as a
message to the shop. A day later it has expired: the old buttons say so plainly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from tests.chat import Chat

LATER = timedelta(hours=3)


async def test_the_first_button_works_hours_after_the_welcome(app: App, clock: FrozenClock) -> None:
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say("/start")
    clock.advance(LATER)
    await newcomer.press("su:join")
    offered = [button.action for reply in newcomer.last for button in reply.buttons]
    assert "su:mkt:yes" in offered, newcomer.text()


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_a_sign_up_left_after_the_consents_goes_on_hours_later(
    app: App, clock: FrozenClock, locale: str
) -> None:
    newcomer = Chat(app, user_id="n1", language_code=locale)
    await newcomer.say("/start")
    await newcomer.press("su:join")
    await newcomer.press("su:mkt:no")  # "what is your name?"
    clock.advance(LATER)
    await newcomer.say("Nok")
    asked = (t(locale, "signup.ask_phone"), t(locale, "signup.ask_phone_typed"))
    assert any(question in newcomer.text() for question in asked), newcomer.text()


async def test_a_sign_up_left_for_more_than_a_day_has_expired_and_says_so(
    app: App, clock: FrozenClock
) -> None:
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say("/start")
    await newcomer.press("su:join")
    clock.advance(timedelta(hours=25))
    await newcomer.press("su:mkt:no")
    assert newcomer.text() == t("en", "error.button_expired")
