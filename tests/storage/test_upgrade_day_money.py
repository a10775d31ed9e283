"""Upgrade day, what money rides on: a coupon chatcrm 6377c7e (schema 0019) issued is taken
once at the till, a reward confirmed on the old release's button is paid once, a void finds
its receipt, and the old campaigns' figures read as the old release showed them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from tests.chat import Chat
from tests.storage.upgrade_day_support import (
    MORNING,
    NIGHT,
    NOTES,
    SOON,
    old_shop,
    scalar,
    upgraded_app,
)

pytestmark = pytest.mark.db

CODES = NOTES["codes"]
#: the coupon the old release gave Ploy for a reward, as its message showed it
COUPON = re.search(r": (\S+-\S+-\S+)", NOTES["ploy_coupon_said"]).group(1)  # type: ignore[union-attr]


async def test_a_coupon_issued_before_the_upgrade_is_taken_once_at_the_till(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upcoupon") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        asoke = Chat(app, user_id="up-ca", language_code="en")
        sukhumvit = Chat(app, user_id="up-cs", language_code="en")
        await asoke.say(f"/redeem {COUPON}")
        assert t("en", "error.internal") not in asoke.text()
        await sukhumvit.say(f"/redeem {COUPON}")
        assert "already used" in sukhumvit.text()
        redeemed = "SELECT COUNT(*) FROM coupons WHERE status = 'redeemed'"
        assert await scalar(engine, redeemed) == 11  # the old release's 10, and this one


async def test_a_reward_confirmed_on_the_old_button_after_the_upgrade_is_paid_once(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upconfirm") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(SOON))
        member = "SELECT id FROM members WHERE member_code = :c"
        nok_id = await scalar(engine, member, c=CODES["Nok"])
        count = "SELECT COUNT(*) FROM coupons WHERE member_id = :m"
        coupons = await scalar(engine, count, m=nok_id)
        balance = "SELECT points_balance FROM members WHERE id = :m"
        points = await scalar(engine, balance, m=nok_id)
        nok = Chat(app, user_id="up-m2", channel=Channel.LINE, language_code="en")
        confirm = NOTES["nok_confirm"][0]
        await nok.press(confirm)
        await nok.press(confirm)  # a double tap on the old message
        assert await scalar(engine, count, m=nok_id) == coupons + 1  # type: ignore[operator]
        assert await scalar(engine, balance, m=nok_id) == points - 15  # type: ignore[operator]


async def test_a_void_after_the_upgrade_finds_the_old_receipt_and_takes_its_points_back(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    async with old_shop(database_url, tmp_path, "upvoid") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(MORNING))
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.say("/void R-200")
        assert t("en", "error.internal") not in owner.text()
        voided = "SELECT COUNT(*) FROM sales WHERE receipt_no = 'R-200' AND voided_at IS NOT NULL"
        assert await scalar(engine, voided) == 1


@pytest.mark.parametrize("campaign", [4, NOTES["campaign_sent"]])
async def test_an_old_campaigns_stats_read_as_the_old_release_showed_them(
    database_url: str, tmp_path: Path, settings: Settings, campaign: int
) -> None:
    async with old_shop(database_url, tmp_path, f"upstats{campaign}") as engine:
        app = await upgraded_app(engine, settings, FrozenClock(NIGHT))
        owner = Chat(app, user_id="up-owner", language_code="en")
        await owner.say(f"/stats {campaign}")
        assert _figures(owner.text()) == _figures(NOTES[f"stats_{campaign}"])


def _figures(stats: str) -> list[str]:
    """The lines with the recipients' side only: an empty hold-out's rate and revenue read
    "—" now, not "0.0%" and "฿0" (wording, not a figure: both campaigns kept no hold-out)."""
    return [line.split(" vs ")[0] for line in stats.splitlines()]
