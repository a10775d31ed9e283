"""/link: one member on LINE and Telegram, through a one-time code and never a phone number."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from storage.models import ChannelIdentity, Member
from tests.chat import Chat
from tests.unit.journey_support import join, rows
from tests.unit.referral_support import count_members
from tests.unit.staff_support import audit_rows, member_chat, outbox_rows

LINE_USER = "U" + "b" * 32


def line_chat(app: App, user_id: str = LINE_USER) -> Chat:
    return Chat(app, user_id=user_id, channel=Channel.LINE, language_code="en", display_name="P")


async def link_code(chat: Chat) -> str:
    """Ask for a code; the bot sends it as a ready-to-forward ``/link CODE`` message."""
    await chat.say("/link")
    command = chat.last[-1].text
    assert command.startswith("/link ")
    return command.removeprefix("/link ")


async def identities_of(app: App, member_id: int) -> set[tuple[str, str]]:
    found = await rows(app, ChannelIdentity, ChannelIdentity.member_id == member_id)
    return {(identity.channel, identity.user_id) for identity in found}


async def test_a_code_from_telegram_sent_on_line_makes_one_member_with_one_balance(
    app: App,
) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1", points=120, locale="en")
    code = await link_code(telegram)
    line = line_chat(app)
    await line.say(f"link {code.lower()}")  # LINE users type without a slash
    assert "Linked" in line.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1"), ("line", LINE_USER)}
    assert await count_members(app) == 1
    await line.say("/points")
    await telegram.say("/points")
    assert "120" in line.text()
    assert line.text() == telegram.text()
    assert [row.member_id for row in await audit_rows(app, "member.linked")] == [ploy.id]


async def test_the_other_account_is_told_about_the_link(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1", locale="en")
    code = await link_code(telegram)
    await line_chat(app).say(f"/link {code}")
    notices = await outbox_rows(app, "linked:")
    assert [(row.channel, row.user_id, row.member_id) for row in notices] == [
        ("telegram", "tg1", ploy.id)
    ]


async def test_a_code_expires_after_ten_minutes(app: App, clock: FrozenClock) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    clock.advance(timedelta(minutes=10, seconds=1))
    line = line_chat(app)
    await line.say(f"/link {code}")
    assert "expired" in line.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1")}


async def test_a_code_works_only_once(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    await line_chat(app).say(f"/link {code}")
    intruder = line_chat(app, "U" + "c" * 32)
    await intruder.say(f"/link {code}")
    assert "does not work" in intruder.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1"), ("line", LINE_USER)}


async def test_a_new_code_replaces_the_previous_one(app: App) -> None:
    telegram, _ = await member_chat(app, user_id="tg1")
    old = await link_code(telegram)
    await link_code(telegram)
    line = line_chat(app)
    await line.say(f"/link {old}")
    assert "does not work" in line.text()


async def test_five_wrong_codes_lock_out_even_the_right_one(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    line = line_chat(app)
    for attempt in range(5):
        await line.say(f"/link WRONG{attempt}22")
    await line.say(f"/link {code}")
    assert "Too many" in line.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1")}
    assert len(await audit_rows(app, "link.failed")) == 5


async def test_the_lockout_ends_after_fifteen_minutes(app: App, clock: FrozenClock) -> None:
    telegram, _ = await member_chat(app, user_id="tg1", locale="en")
    line = line_chat(app)
    for attempt in range(5):
        await line.say(f"/link WRONG{attempt}22")
    clock.advance(timedelta(minutes=15, seconds=1))
    code = await link_code(telegram)
    await line.say(f"/link {code}")
    assert "Linked" in line.text()


async def test_an_account_with_its_own_membership_is_not_merged(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    line = line_chat(app)
    await join(line, name="Other", phone="089-999-0000")
    code = await link_code(telegram)
    await line.say(f"/link {code}")
    assert "cannot be joined" in line.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1")}
    # the code was not spent by the refusal: a fresh LINE account can still use it
    await line_chat(app, "U" + "d" * 32).say(f"/link {code}")
    assert ("line", "U" + "d" * 32) in await identities_of(app, ploy.id)


async def test_a_code_sent_on_the_same_app_is_refused(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    other_telegram = Chat(app, user_id="tg2", language_code="en")
    await other_telegram.say(f"/link {code}")
    assert "other chat app" in other_telegram.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1")}


async def test_a_typed_phone_number_never_links(app: App) -> None:
    _, ploy = await member_chat(app, user_id="tg1")
    line = line_chat(app)
    await line.say("/link 081-234-5678")
    assert "does not work" in line.text()
    assert await identities_of(app, ploy.id) == {("telegram", "tg1")}


async def test_a_stranger_sending_link_alone_is_told_how(app: App) -> None:
    line = line_chat(app)
    await line.say("/link")
    assert "where you are already a member" in line.text()
    assert await rows(app, Member) == []


async def test_linking_mid_sign_up_ends_the_sign_up(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    line = line_chat(app)
    await line.follow()  # the welcome and the sign-up start
    await line.say(f"link {code}")
    await line.say("hello shop")  # no sign-up step waits for this: it reaches the inbox
    assert await count_members(app) == 1
    assert await identities_of(app, ploy.id) == {("telegram", "tg1"), ("line", LINE_USER)}


async def test_sending_the_code_again_from_the_linked_account_says_already_linked(
    app: App,
) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1", locale="en")
    code = await link_code(telegram)
    line = line_chat(app)
    await line.say(f"/link {code}")
    for _ in range(6):  # more than the lock-out allows, and none of them counted
        await line.say(f"/link {code}")
        assert line.text() == t("en", "link.already")
    await telegram.say(f"/link {code}")  # the account that asked for it is linked too
    assert telegram.text() == t("en", "link.already")
    assert await audit_rows(app, "link.failed") == []
    assert await identities_of(app, ploy.id) == {("telegram", "tg1"), ("line", LINE_USER)}


async def test_the_already_linked_answer_is_in_thai_too(app: App) -> None:
    telegram, _ = await member_chat(app, user_id="tg1")
    code = await link_code(telegram)
    line = Chat(app, user_id=LINE_USER, channel=Channel.LINE, language_code="th")
    await line.say(f"/link {code}")
    await line.say(f"/link {code}")
    assert line.text() == t("th", "link.already")
    assert await audit_rows(app, "link.failed") == []
