"""/language sticks for everyone: members, staff who are not members, people half-way through
sign-up and strangers; it wins over the platform's hint on every later message, also for
messages queued to them (a staff notice)."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from storage.models import ChannelIdentity
from tests.chat import Chat
from tests.unit.journey_support import join, only_member, rows
from tests.unit.sales_support import texts
from tests.unit.staff_support import make_member, outbox_rows, staff_chat


async def test_a_stranger_keeps_the_language_on_the_next_message(app: App) -> None:
    chat = Chat(app, language_code="th")  # the platform keeps saying Thai
    await chat.press("lang:en")
    replies = await chat.say("/help")
    assert replies[0].text.startswith(t("en", "help.title"))
    (identity,) = await rows(app, ChannelIdentity)
    assert (identity.chosen_locale, identity.language_code) == ("en", "th")


async def test_a_staff_member_who_is_not_a_member_keeps_the_language(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await owner.say("/language")
    await owner.press("lang:en")
    replies = await owner.say("/staffmenu")
    assert t("en", "staff.role_owner") in replies[0].text
    assert t("th", "staff.role_owner") not in replies[0].text


async def test_a_notice_queued_to_staff_uses_the_chosen_language(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await owner.press("lang:en")
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, "Ploy", "081-234-5678")
    await cashier.say(f"/sale {ploy.member_code} 60000 receipt=BIG")  # over the daily cap
    [ask] = await outbox_rows(app, "approval:")
    assert ask.user_id == "o1"
    assert texts(ask).startswith("Approval needed")


async def test_a_choice_before_sign_up_becomes_the_members_language(app: App) -> None:
    chat = Chat(app, language_code="th")
    await chat.press("lang:en")
    await chat.say("hello")  # a message in between: the choice is not lost
    await join(chat, name="Ploy")
    assert (await only_member(app)).locale == "en"
    assert "Your points" in (await chat.say("/points"))[0].text


async def test_a_member_keeps_the_language_whatever_the_platform_hints(app: App) -> None:
    chat = Chat(app, language_code="en")
    await join(chat)
    await chat.press("lang:th")
    chat.language_code = "en"
    replies = await chat.say("/points")
    assert replies[0].text.startswith("แต้มของคุณ")
    assert (await only_member(app)).locale == "th"


async def test_an_unknown_language_button_changes_nothing(app: App) -> None:
    chat = Chat(app, language_code="th")
    replies = await chat.press("lang:fr")
    assert replies[0].text == t("th", "error.button_expired")
    (identity,) = await rows(app, ChannelIdentity)
    assert identity.chosen_locale is None


async def test_the_apology_for_a_failure_is_in_the_writers_language(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.bus.router, "route", broken)
    replies = await Chat(app, language_code="en").say("/points")
    assert [reply.text for reply in replies] == [t("en", "error.internal")]
