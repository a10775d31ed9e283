"""Telegram: staff get a command menu of their own chat, customers keep the default one."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.cli_staff import invite_lines
from bot.core.errors import ChannelError
from bot.core.messages import Reply
from bot.i18n import t
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import text_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_staff, staff_of

CASHIER = 7770001
OWNER = 7770002
_updates = itertools.count(5000)


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def say(tg: TelegramWorld, user: int, text: str) -> None:
    assert await tg.post(text_update(next(_updates), user, text)) == 200


def commands_of(tg: TelegramWorld, chat_id: int) -> list[str]:
    return [c["command"] for c in tg.fake.chat_commands.get(chat_id, [])]


async def test_claiming_sets_the_staff_menu_of_that_chat_only(tg: TelegramWorld) -> None:
    code = (await invite_lines(tg.app, "owner", None, 7))[-1]
    await say(tg, OWNER, f"/claim {code}")
    menu = commands_of(tg, OWNER)
    assert {"start", "card", "help"} <= set(menu)  # customer commands stay
    assert {"staff", "staffmenu"} <= set(menu)
    assert ("chat", "") not in tg.fake.commands  # not the shop-wide default scope
    assert t("th", "staff.claimed", name="Ploy S.", role="เจ้าของร้าน", branch="ทุกสาขา") in (
        tg.fake.sent(OWNER)[0].text
    )


async def test_the_staff_menu_is_in_the_person_s_language(tg: TelegramWorld) -> None:
    await tg.channel.push(str(CASHIER), [Reply(text="hi", meta={"menu": "owner", "locale": "en"})])
    [staff] = [c for c in tg.fake.chat_commands[CASHIER] if c["command"] == "staff"]
    assert staff["description"] == t("en", "staff.cmd_staff")


async def test_a_cashier_menu_has_no_manager_commands(tg: TelegramWorld) -> None:
    code = (await invite_lines(tg.app, "cashier", None, 7))[-1]
    await say(tg, CASHIER, f"/claim {code}")
    assert "staffmenu" in commands_of(tg, CASHIER)
    assert "staff" not in commands_of(tg, CASHIER)


async def test_customers_never_get_a_chat_menu(tg: TelegramWorld) -> None:
    await say(tg, CASHIER, "/help")
    await say(tg, CASHIER, "/claim AAAA-BBBB-CCCC-DDDD")
    assert tg.fake.of("setMyCommands") == []


async def test_removal_deletes_the_chat_menu_when_the_outbox_message_goes_out(
    tg: TelegramWorld,
) -> None:
    await make_staff(tg.app, str(OWNER), "owner")
    code = (await invite_lines(tg.app, "cashier", None, 7))[-1]
    await say(tg, CASHIER, f"/claim {code}")
    cashier = await staff_of(tg.app, str(CASHIER))
    assert cashier is not None
    assert CASHIER in tg.fake.chat_commands
    await say(tg, OWNER, f"/staff remove {cashier.id}")
    await tg.post(
        {
            "update_id": next(_updates),
            "callback_query": {
                "id": "cb1",
                "from": {"id": OWNER, "is_bot": False, "first_name": "Boss"},
                "chat_instance": "x",
                "data": f"stf:rmok:{cashier.id}",
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": OWNER, "type": "private"},
                    "text": "?",
                },
            },
        }
    )
    dispatcher = OutboxDispatcher(tg.app.uow, tg.app.clock, {tg.channel.channel: tg.channel})
    await dispatcher.drain_once()
    assert CASHIER not in tg.fake.chat_commands
    assert [c.params["scope"]["chat_id"] for c in tg.fake.of("deleteMyCommands")] == [CASHIER]
    assert tg.fake.sent(CASHIER)[-1].text == t("th", "staff.you_were_removed")


async def test_a_failing_menu_call_does_not_stop_the_reply(tg: TelegramWorld) -> None:
    tg.fake.fail(400, "Bad Request: something odd", method="setMyCommands")
    code = (await invite_lines(tg.app, "owner", None, 7))[-1]
    await say(tg, OWNER, f"/claim {code}")
    assert len(tg.fake.sent(OWNER)) == 3  # welcome + staff menu + the empty shop's set-up
    assert await staff_of(tg.app, str(OWNER)) is not None


async def test_setup_gives_every_telegram_staff_member_their_menu(tg: TelegramWorld) -> None:
    await make_staff(tg.app, str(OWNER), "owner")
    await make_staff(tg.app, str(CASHIER), "cashier")
    done = await tg.channel.setup(tg.app.bus.router)
    assert "staff" in commands_of(tg, OWNER)
    assert "staffmenu" in commands_of(tg, CASHIER)
    assert "staff" not in commands_of(tg, CASHIER)
    assert sum("staff menu" in line for line in done) == 2


async def test_a_menu_reply_that_went_out_whole_sets_the_menu_though_a_later_one_failed(
    tg: TelegramWorld,
) -> None:
    # the retry sends only what did not go out (Telegram has no idempotency key): the menu of
    # a reply that did is set now, or never
    menu = Reply(text="hi", meta={"menu": "owner", "locale": "en"})
    tg.fake.fail(502, "Bad Gateway", chat_id=CASHIER, method="sendMessage", times=0)

    async def refuse_the_next(call: object) -> None:
        tg.fake.failures[-1].times = 1
        tg.fake.after_send = None

    tg.fake.after_send = refuse_the_next
    with pytest.raises(ChannelError) as raised:
        await tg.channel.push(str(CASHIER), [menu, Reply(text="then this")])
    assert raised.value.rest is not None
    assert [r.text for r in raised.value.rest] == ["then this"]
    assert "staff" in commands_of(tg, CASHIER)
