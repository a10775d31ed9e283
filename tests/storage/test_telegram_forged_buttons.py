"""Buttons Telegram delivers with data no button of ours carried, through the real webhook.

The Bot API says of ``callback_query.data``: "a bad client can send arbitrary data in this
field" — any 1–64 bytes, for any message. A button is a request, not a permission, and a
request the bot cannot read is answered as an expired button, never as a fault of the shop's
system (``error.internal``) and never with a second effect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.i18n import t
from simulator.fakes.telegram_updates import callback_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_member, make_staff

USER = 5550001
OWNER = 5550002
INTERNAL = t("th", "error.internal")
#: a number past any 64-bit id, and a digit Python's ``str.isdigit`` accepts but ``int`` does not
TOO_BIG = "9" * 20
SUPERSCRIPT = "\u00b2"


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def _press(tg: TelegramWorld, user: int, data: str, update_id: int) -> list[str]:
    """The texts the bot sent ``user`` after a press of ``data`` (the press is answered 200)."""
    before = len(tg.fake.sent(user))
    assert len(data.encode()) <= 64  # what Telegram lets through
    assert await tg.post(callback_update(update_id, user, data)) == 200
    return [call.text for call in tg.fake.sent(user)[before:]]


async def test_readable_forged_data_is_answered_plainly(tg: TelegramWorld) -> None:
    """A member pressing another campaign's or coupon's id, or a namespace that is not ours."""
    await make_member(tg.app, "Ploy", "0812345678", user_id=str(USER))
    for update_id, data in enumerate(("cmp:123", "cpn:123", "zz:1", "cmp:-1", "cmp:๑๒"), 1):
        texts = await _press(tg, USER, data, update_id)
        assert texts, data
        assert INTERNAL not in texts, data


@pytest.mark.parametrize(
    "data",
    [f"cmp:{TOO_BIG}", f"cmp:{SUPERSCRIPT}", f"cpn:{TOO_BIG}", f"cpn:{SUPERSCRIPT}"],
    ids=["promotion-too-big", "promotion-superscript", "coupon-too-big", "coupon-superscript"],
)
async def test_a_members_unreadable_button_id_is_no_internal_error(
    tg: TelegramWorld, data: str
) -> None:
    await make_member(tg.app, "Ploy", "0812345678", user_id=str(USER))
    texts = await _press(tg, USER, data, 1)
    assert texts
    assert INTERNAL not in texts


async def test_an_owners_forged_buttons_are_answered_plainly(tg: TelegramWorld) -> None:
    """An approval of a sale that never was, an inbox thread and a customer that do not
    exist."""
    await make_staff(tg.app, str(OWNER), "owner")
    for update_id, data in enumerate(("apv:y:7", "apv:n:7", "ibr:7", "cust:show:7"), 1):
        texts = await _press(tg, OWNER, data, update_id)
        assert texts, data
        assert INTERNAL not in texts, data


@pytest.mark.parametrize(
    "data",
    [f"cust:show:{TOO_BIG}", f"cust:show:{SUPERSCRIPT}", f"ibr:{TOO_BIG}", f"apv:y:{TOO_BIG}"],
    ids=["customer-too-big", "customer-superscript", "inbox-reply-too-big", "approval-too-big"],
)
async def test_a_staff_unreadable_button_id_is_no_internal_error(
    tg: TelegramWorld, data: str
) -> None:
    await make_staff(tg.app, str(OWNER), "owner")
    texts = await _press(tg, OWNER, data, 1)
    assert texts
    assert INTERNAL not in texts
