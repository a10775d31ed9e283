"""The promotion button (click + claim), the redemption window, contact events, outcomes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.keys import CampaignMessageKey
from shop.campaigns.offers import Offer
from shop.campaigns.tracking import on_campaign_outcome
from storage.models import Campaign, CampaignMember, ContactEvent, Coupon, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.staff_support import member_chat, staff_chat
from tests.unit.tracking_support import AudienceRow, add_audience, add_campaign, add_member

ONE_GET_ONE = Offer(
    kind="buy_x_get_y",
    value="1-1",
    title_en="1-get-1 milk tea",
    title_th="ชานม ซื้อ 1 แถม 1",
    weekdays=(0, 1, 2, 3, 4),
    hours=(14, 16),
).to_json()


async def _row(app: App, campaign_id: int, member_id: int) -> CampaignMember:
    async with app.uow() as uow:
        row = await session_of(uow).get(CampaignMember, (campaign_id, member_id))
        assert row is not None
        return row


async def _coupons(app: App) -> list[Coupon]:
    async with app.uow() as uow:
        return list((await session_of(uow).execute(select(Coupon))).scalars().all())


async def _events(app: App) -> list[tuple[int, str]]:
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            select(ContactEvent.member_id, ContactEvent.kind).order_by(ContactEvent.id)
        )
        return [(m, k) for m, k in rows]


async def _campaign_with(
    app: App, group: str, offer: dict[str, Any] | None = ONE_GET_ONE
) -> tuple[Chat, int, int]:
    chat, member = await member_chat(app, user_id="m1")
    campaign = await add_campaign(app, app.clock.now(), offer=offer, status="sending")
    await add_audience(
        app, campaign, [AudienceRow(member.id, group=group, sent_at=app.clock.now())]
    )
    return chat, campaign, member.id


async def test_a_recipient_press_records_the_click_and_issues_a_coupon(app: App) -> None:
    chat, campaign, member_id = await _campaign_with(app, "recipient")
    replies = await chat.press(f"cmp:{campaign}")
    row = await _row(app, campaign, member_id)
    assert row.clicked_at == app.clock.now()
    assert row.claimed_at == app.clock.now()
    [coupon] = await _coupons(app)
    assert coupon.id == row.coupon_id
    assert coupon.campaign_id == campaign
    assert coupon.conditions == {"weekdays": [0, 1, 2, 3, 4], "hours": [14, 16]}
    assert replies[0].attachment is not None
    assert replies[0].attachment.is_image
    assert "14:00–16:00" in replies[0].text


async def test_a_second_press_shows_the_same_coupon(app: App) -> None:
    chat, campaign, _ = await _campaign_with(app, "recipient")
    first = await chat.press(f"cmp:{campaign}")
    second = await chat.press(f"cmp:{campaign}")
    assert len(await _coupons(app)) == 1
    assert first[0].text == second[0].text


async def test_a_double_tap_at_the_same_moment_claims_one_coupon(app: App) -> None:
    chat, campaign, _ = await _campaign_with(app, "recipient")
    await asyncio.gather(*(chat.press(f"cmp:{campaign}") for _ in range(3)))
    assert len(await _coupons(app)) == 1


async def test_a_holdout_member_pressing_a_forged_button_records_nothing(app: App) -> None:
    chat, campaign, member_id = await _campaign_with(app, "holdout")
    await chat.press(f"cmp:{campaign}")
    row = await _row(app, campaign, member_id)
    assert row.clicked_at is None
    assert row.claimed_at is None
    assert await _coupons(app) == []
    assert "not available" in chat.text() or "ไม่ได้มีไว้" in chat.text()


async def test_a_stranger_pressing_a_forged_button_records_nothing(app: App) -> None:
    _, campaign, _ = await _campaign_with(app, "recipient")
    stranger, _ = await member_chat(app, "Nok", "089-999-0000", user_id="m2")
    await stranger.press(f"cmp:{campaign}")
    await stranger.press("cmp:not-a-number")
    assert await _coupons(app) == []


async def test_a_campaign_without_offer_records_the_click_and_thanks(app: App) -> None:
    chat, campaign, member_id = await _campaign_with(app, "recipient", offer=None)
    await chat.press(f"cmp:{campaign}")
    row = await _row(app, campaign, member_id)
    assert row.clicked_at is not None
    assert row.claimed_at is None
    assert await _coupons(app) == []


async def test_the_coupon_redeems_only_mon_to_fri_14_to_16_shop_time(
    app: App, clock: FrozenClock
) -> None:
    chat, campaign, _ = await _campaign_with(app, "recipient")
    await chat.press(f"cmp:{campaign}")
    [coupon] = await _coupons(app)
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    clock.set(datetime(2026, 3, 7, 8, 0, tzinfo=UTC))  # Sat 15:00
    await cashier.say(f"/redeem {coupon.code}")
    assert "Mon–Fri 14:00–16:00" in cashier.text()
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # Mon 16:00
    await cashier.say(f"/redeem {coupon.code}")
    assert (await _coupons(app))[0].status == "issued"
    clock.set(datetime(2026, 3, 9, 8, 59, tzinfo=UTC))  # Mon 15:59
    await cashier.say(f"/redeem {coupon.code}")
    assert (await _coupons(app))[0].status == "redeemed"


async def test_stop_resume_unfollow_and_follow_are_contact_events(app: App) -> None:
    chat, member = await member_chat(app, user_id="m1")
    await chat.say("/stop")
    await chat.say("/stop")  # already stopped: no second event
    await chat.say("/resume")
    await chat.unfollow()
    await chat.unfollow()  # already unreachable
    await chat.follow()
    assert await _events(app) == [
        (member.id, "stopped"),
        (member.id, "resumed"),
        (member.id, "blocked"),
        (member.id, "unblocked"),
    ]


async def test_outcomes_record_blocks_and_finish_the_campaign(app: App) -> None:
    now = app.clock.now()
    campaign = await add_campaign(app, now, status="sending")
    a, b = await add_member(app), await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(a, status="unreachable"), AudienceRow(b, status="pending")],
    )
    async with app.uow() as uow:
        await on_campaign_outcome(uow, CampaignMessageKey(campaign, a).format(), "unreachable", now)
        await on_campaign_outcome(uow, "receipt:1", "sent", now)  # not a campaign: ignored
        await uow.commit()
    assert await _events(app) == [(a, "blocked")]
    async with app.uow() as uow:
        assert (await session_of(uow).get(Campaign, campaign)).status == "sending"  # type: ignore[union-attr]
        row = (
            await session_of(uow).execute(
                select(OutboxMessage).where(
                    OutboxMessage.dedupe_key == CampaignMessageKey(campaign, b).format()
                )
            )
        ).scalar_one()
        row.status = "sent"
        await on_campaign_outcome(
            uow, CampaignMessageKey(campaign, b).format(), "sent", now + timedelta(1)
        )
        await uow.commit()
    async with app.uow() as uow:
        done = await session_of(uow).get(Campaign, campaign)
        assert done is not None
        assert done.status == "sent"
        assert done.finished_at is not None
