"""The whole sign-up through Telegram webhooks, pressing the buttons the bot actually sent."""

from __future__ import annotations

import html
import itertools
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.i18n import t
from simulator.fakes.telegram_updates import callback_update, contact_update, text_update
from storage.models import Branch, ChannelIdentity, Consent, Member
from storage.raw_session import session_of
from tests.e2e.telegram_world import TelegramWorld, telegram_world_with_branch

USER = 5550001
NAME = 'พลอย <b>&"x"</b>'


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world_with_branch(app) as world:
        yield world


class Customer:
    """A Telegram user who reads what the fake received and answers through the webhook."""

    def __init__(self, tg: TelegramWorld) -> None:
        self.tg = tg
        self.update_ids = itertools.count(1000)
        self.seen = 0

    def new_messages(self) -> list[Any]:
        sent = self.tg.fake.sent(USER)
        fresh, self.seen = sent[self.seen :], len(sent)
        return fresh

    async def _post(self, update: dict[str, Any]) -> list[Any]:
        assert await self.tg.post(update) == 200
        fresh = self.new_messages()
        assert fresh, "the bot did not answer"
        return fresh

    async def say(self, text: str) -> list[Any]:
        return await self._post(text_update(next(self.update_ids), USER, text))

    async def share_contact(self, phone: str) -> list[Any]:
        return await self._post(contact_update(next(self.update_ids), USER, phone))

    async def press(self, messages: list[Any], label: str) -> list[Any]:
        buttons = {k: v for m in messages for k, v in m.callback_data().items()}
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        return await self._post(callback_update(next(self.update_ids), USER, buttons[label]))


async def test_signup_through_webhooks_creates_the_member_and_sends_the_card(
    tg: TelegramWorld,
) -> None:
    me = Customer(tg)
    th = "th"

    shown = await me.say("/start")
    shown = await me.press(shown, t(th, "signup.accept"))
    shown = await me.press(shown, t(th, "signup.marketing_yes"))
    await me.say(NAME)
    phone_question = me.tg.fake.sent(USER)[-1]
    assert phone_question.markup["keyboard"][0][0]["request_contact"] is True
    await me.share_contact("66812345678")
    shown = await me.say("๐๑/๐๕/๒๕๓๐")
    shown = await me.press(shown, t(th, "signup.gender_female"))
    shown = await me.press(shown, "อโศก")

    async with tg.app.uow() as uow:
        member = (await session_of(uow).execute(select(Member))).scalar_one()
        identity = await uow.identities.get("telegram", str(USER))
        consents = (await session_of(uow).execute(select(Consent))).scalars().all()
        asoke = (await session_of(uow).execute(select(Branch))).scalar_one()
    assert member.name == NAME
    assert member.phone == "+66812345678"
    assert member.birthday == date(1987, 5, 1)
    assert member.gender == "female"
    assert member.home_branch_id == asoke.id
    assert member.marketing_opt_in is True
    assert isinstance(identity, ChannelIdentity)
    assert identity.member_id == member.id
    assert {(c.purpose, c.granted) for c in consents} == {
        ("membership", True),
        ("marketing", True),
    }

    card = shown[-1]
    assert card.method == "sendPhoto"
    assert card.files["photo"].startswith(b"\x89PNG")
    caption = html.unescape(card.text)
    assert member.member_code in caption
    assert NAME in caption  # shown as written, escaped for Telegram's HTML
