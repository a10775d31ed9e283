"""One person on LINE and on Telegram, through signed webhooks to the real web app and the
platform fakes on 127.0.0.1: what a linked member sees on each app, where a campaign goes,
what /stop and /deleteme from one app do to the other, and codes sent at the same moment."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.channels import line as line_channel
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from shop.coupons import display_code
from simulator.fakes.line_webhooks import signed_webhook, text_event
from simulator.world import HttpWorld, http_world
from storage.models import ChannelIdentity, InboxMessage, Member, OutboxMessage, Sale, Staff
from storage.raw_session import session_of
from storage.repositories.erasure import Erasure
from storage.repositories.identities import Identities
from tests.domain.campaign_support import audience, launch_now, make_campaign
from tests.unit.journey_support import rows
from tests.unit.rewards_support import make_coupon
from tests.unit.sales_support import balance
from tests.unit.staff_support import ensure_branches, make_member, make_staff

TG = "710001"
TG_OTHER = "710002"
LINE = "U" + "a1" * 16
LINE_OTHER = "U" + "b2" * 16
CASHIER = "720001"
OWNER = "799999"
#: the run's database is PostgreSQL (where writers truly run at once), not SQLite
ON_POSTGRES = os.environ.get("CHATCRM_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture
async def world(app: App) -> AsyncIterator[HttpWorld]:
    async with http_world(app) as world:
        yield world


async def _code(world: HttpWorld, channel: str, user_id: str) -> str:
    """The member on ``channel`` asks for a link code (sent as a ready ``/link CODE``)."""
    text = await world.say(channel, user_id, "/link")
    [line] = [ln for ln in text.splitlines() if ln.startswith("/link ")]
    return line.removeprefix("/link ")


async def _linked(app: App, world: HttpWorld, **fields: Any) -> Member:
    """Ploy, a Telegram member, links her LINE account through signed webhooks."""
    member = await make_member(app, user_id=TG, locale="en", **fields)
    code = await _code(world, "telegram", TG)
    assert "Linked" in await world.say("line", LINE, f"link {code}")
    return member


async def _accounts(app: App, member_id: int) -> set[tuple[str, str]]:
    found = await rows(app, ChannelIdentity, ChannelIdentity.member_id == member_id)
    return {(i.channel, i.user_id) for i in found}


async def _promotions(app: App) -> list[tuple[str, str, int | None]]:
    """Every promotion queued so far, in order: (app, chat account, member)."""
    async with app.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.promotional.is_(True))
        found = (await session_of(uow).scalars(query.order_by(OutboxMessage.id))).all()
    return [(row.channel, row.user_id, row.member_id) for row in found]


async def _post_line(world: HttpWorld, event: dict[str, Any]) -> int:
    body, signature = signed_webhook([event])
    headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
    url = world.base_url + line_channel.WEBHOOK_PATH
    async with world.session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_a_linked_member_sees_one_balance_one_coupon_and_one_sale_on_both_apps(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en", points=120)
    coupon = await make_coupon(app, ploy.id)
    await make_staff(app, CASHIER, "cashier", "asoke")
    await world.say("telegram", CASHIER, f"/sale {ploy.member_code} 250 receipt=R1")
    code = await _code(world, "telegram", TG)
    assert "130 points" in await world.say("line", LINE, f"/link {code}")
    assert await _accounts(app, ploy.id) == {("telegram", TG), ("line", LINE)}
    seen = {}
    for channel, user in (("telegram", TG), ("line", LINE)):
        points = await world.say(channel, user, "/points")
        coupons = await world.say(channel, user, "/coupons")
        history = await world.say(channel, user, "/history")
        assert "Your points: 130" in points
        assert coupons.count(display_code(coupon.code)) == 1
        assert history.count("฿250") == 1
        assert history.count("+120") == 1
        seen[channel] = (points, coupons, history)
    assert seen["telegram"] == seen["line"]
    assert await balance(app, ploy.id) == 130


async def test_a_campaign_reaches_a_linked_member_once_on_the_app_seen_last(
    app: App, world: HttpWorld, clock: FrozenClock
) -> None:
    ploy = await _linked(app, world)
    clock.advance(timedelta(minutes=5))
    await world.say("line", LINE, "hello")  # LINE is the account seen last
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    assert await _promotions(app) == [("line", LINE, ploy.id)]
    assert [row.member_id for row in await audience(app, campaign.id)] == [ploy.id]


async def test_a_campaign_goes_to_telegram_after_the_line_account_unfollowed(
    app: App, world: HttpWorld
) -> None:
    ploy = await _linked(app, world)
    await world.block("line", LINE)
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    assert await _promotions(app) == [("telegram", TG, ploy.id)]


async def test_stop_on_line_stops_promotions_on_telegram_too(
    app: App, world: HttpWorld, clock: FrozenClock
) -> None:
    ploy = await _linked(app, world)
    await world.say("line", LINE, "/stop")
    clock.advance(timedelta(minutes=5))
    await world.say("telegram", TG, "hello")  # Telegram is now the account seen last
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    assert await _promotions(app) == []
    [row] = await audience(app, campaign.id)
    assert row.member_id == ploy.id


async def test_frequency_caps_count_promotions_on_both_apps(
    app: App, world: HttpWorld, clock: FrozenClock
) -> None:
    ploy = await _linked(app, world)
    for n, (channel, user) in enumerate((("line", LINE), ("telegram", TG), ("line", LINE))):
        clock.advance(timedelta(minutes=5))
        await world.say(channel, user, "hi")  # the other app is now the one seen last
        campaign = await make_campaign(app, holdout_pct=0, name=f"c{n}")
        await launch_now(app, campaign.id)
    # a new member may get 2 promotions per 7 days, whichever app they were sent to
    assert await _promotions(app) == [("line", LINE, ploy.id), ("telegram", TG, ploy.id)]


async def test_deleteme_on_line_erases_the_telegram_side_and_a_replay_brings_nothing_back(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, "Ploy", user_id=TG, locale="en", points=70)
    code = await _code(world, "telegram", TG)
    link_event = text_event(
        LINE, f"/link {code}", world.line.issue_reply_token(LINE), app.clock.now()
    )
    assert await _post_line(world, link_event) == 200
    await world.say("telegram", TG, "my order was wrong, call me on 0812345678")
    await world.say("line", LINE, "/deleteme")
    await world.press("line", LINE, "del:yes")
    # LINE delivers the link event again, and Telegram's member writes once more
    link_event["deliveryContext"] = {"isRedelivery": True}
    assert await _post_line(world, link_event) == 200
    fresh = text_event(LINE, f"/link {code}", world.line.issue_reply_token(LINE), app.clock.now())
    assert await _post_line(world, fresh) == 200
    await world.say("telegram", TG, "/points")
    assert await _accounts(app, ploy.id) == set()
    [erased] = await rows(app, Member, Member.id == ploy.id)
    assert (erased.name, erased.phone, erased.erased_at is not None) == (None, None, True)
    texts = [m.text for m in await rows(app, InboxMessage)]
    assert not any("0812345678" in (text or "") for text in texts)


async def test_two_members_codes_sent_at_once_from_one_line_account_link_it_to_one(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, "Ploy", "081-111-1111", user_id=TG, locale="en")
    nok = await make_member(app, "Nok", "081-222-2222", user_id=TG_OTHER, locale="en")
    first = await _code(world, "telegram", TG)
    second = await _code(world, "telegram", TG_OTHER)
    events = [
        text_event(LINE, f"/link {c}", world.line.issue_reply_token(LINE), app.clock.now())
        for c in (first, second)
    ]
    statuses = await asyncio.gather(*(_post_line(world, e) for e in events))
    assert statuses == [200, 200]
    [account] = await rows(app, ChannelIdentity, ChannelIdentity.user_id == LINE)
    assert account.member_id in (ploy.id, nok.id)
    other = nok.id if account.member_id == ploy.id else ploy.id
    assert ("line", LINE) not in await _accounts(app, other)
    notices = [r for r in await rows(app, OutboxMessage) if r.dedupe_key.startswith("linked:")]
    assert [r.member_id for r in notices] == [account.member_id]  # only the winner is told


async def test_one_code_sent_at_once_from_two_line_accounts_links_only_one(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en")
    code = await _code(world, "telegram", TG)
    events = [
        text_event(u, f"/link {code}", world.line.issue_reply_token(u), app.clock.now())
        for u in (LINE, LINE_OTHER)
    ]
    await asyncio.gather(*(_post_line(world, e) for e in events))
    accounts = await _accounts(app, ploy.id)
    assert len([a for a in accounts if a[0] == "line"]) == 1


async def test_codes_crossed_between_two_members_at_once_merge_nobody(
    app: App, world: HttpWorld
) -> None:
    # Ploy on Telegram and Nok on LINE each send the other's code at the same moment
    ploy = await make_member(app, "Ploy", "081-111-1111", user_id=TG, locale="en", points=10)
    nok = await make_member(
        app, "Nok", "081-222-2222", user_id=LINE, channel=Channel.LINE, locale="en", points=20
    )
    ploys, noks = await _code(world, "telegram", TG), await _code(world, "line", LINE)
    to_line = text_event(
        LINE, f"/link {ploys}", world.line.issue_reply_token(LINE), app.clock.now()
    )
    answers = await asyncio.gather(
        world.say("telegram", TG, f"/link {noks}"), _post_line(world, to_line)
    )
    assert "cannot be joined" in answers[0]
    assert await _accounts(app, ploy.id) == {("telegram", TG)}
    assert await _accounts(app, nok.id) == {("line", LINE)}
    assert (await balance(app, ploy.id), await balance(app, nok.id)) == (10, 20)


async def test_a_link_racing_the_members_erasure_attaches_no_account_to_the_erased(
    app: App, world: HttpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en", points=500)
    code = await _code(world, "telegram", TG)
    await world.say("telegram", TG, "/deleteme")
    erasing, looked = asyncio.Event(), asyncio.Event()
    erase, of_member = Erasure.erase_member, Identities.of_member

    async def erase_then_wait(self: Erasure, member: Member, now: datetime) -> None:
        # done and holding its locks, the erasure commits once the link has read the member
        # and her accounts: the moment two webhooks meet (bounded, should the link wait)
        await erase(self, member, now)
        erasing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(looked.wait(), 5.0)

    async def of_member_and_tell(self: Identities, member_id: int) -> Sequence[ChannelIdentity]:
        found = await of_member(self, member_id)
        looked.set()
        return found

    monkeypatch.setattr(Erasure, "erase_member", erase_then_wait)
    monkeypatch.setattr(Identities, "of_member", of_member_and_tell)
    erasure = asyncio.create_task(world.press("telegram", TG, "del:yes"))
    await erasing.wait()
    link = text_event(LINE, f"/link {code}", world.line.issue_reply_token(LINE), app.clock.now())
    assert await _post_line(world, link) == 200
    await erasure
    assert await _accounts(app, ploy.id) == set()
    assert [row.user_id for row in await rows(app, OutboxMessage)] == []  # no "linked" notice


async def test_linking_while_telegram_is_blocked_tells_only_reachable_accounts(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en", points=40)
    code = await _code(world, "telegram", TG)
    await world.block("telegram", TG)
    assert "40 points" in await world.say("line", LINE, f"/link {code}")
    assert [
        r.channel for r in await rows(app, OutboxMessage) if r.dedupe_key.startswith("linked:")
    ] == []
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    assert await _promotions(app) == [("line", LINE, ploy.id)]


async def test_a_cashiers_linked_line_account_has_no_staff_powers_and_cannot_sell_to_her(
    app: App, world: HttpWorld
) -> None:
    # the cashier works on Telegram; her membership is also reached from her LINE account
    ploy = await make_member(app, user_id=TG, locale="en", points=10)
    await make_staff(app, TG, "cashier", "asoke")
    nok = await make_member(app, "Nok", "089-999-0000", user_id=TG_OTHER)
    code = await _code(world, "telegram", TG)
    await world.say("line", LINE, f"/link {code}")
    await world.say("line", LINE, f"/sale {nok.member_code} 250 receipt=L1")
    await world.say("telegram", TG, "/sale 0812345678 250 receipt=T1")
    await world.say("telegram", TG, f"/sale {ploy.member_code} 250 receipt=T2")
    assert [s.receipt_no for s in await rows(app, Sale)] == []
    assert (await balance(app, ploy.id), await balance(app, nok.id)) == (10, 0)


async def test_a_cashier_member_erasing_from_line_keeps_her_staff_account(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en", points=10)
    await make_staff(app, TG, "cashier", "asoke")
    nok = await make_member(app, "Nok", "089-999-0000", user_id=TG_OTHER)
    code = await _code(world, "telegram", TG)
    await world.say("line", LINE, f"/link {code}")
    await world.say("line", LINE, "/deleteme")
    await world.press("line", LINE, "del:yes")
    assert await _accounts(app, ploy.id) == set()
    await world.say("telegram", TG, f"/sale {nok.member_code} 250 receipt=R9")
    assert [s.receipt_no for s in await rows(app, Sale)] == ["R9"]
    assert "Your points" not in await world.say("telegram", TG, "/points")


async def test_own_invite_code_typed_on_the_other_app_before_linking_pays_nothing(
    app: App, world: HttpWorld
) -> None:
    ploy = await make_member(app, user_id=TG, locale="en")
    await world.say("line", LINE, f"ref {ploy.member_code}")  # a stranger's sign-up begins
    code = await _code(world, "telegram", TG)
    await world.say("line", LINE, f"/link {code}")
    assert "already a member" in await world.say("line", LINE, f"ref {ploy.member_code}")
    [member] = await rows(app, Member)
    assert member.referred_by_code is None
    await make_staff(app, CASHIER, "cashier", "asoke")
    await world.say("telegram", CASHIER, f"/sale {ploy.member_code} 500 receipt=R1")
    assert await balance(app, ploy.id) == 20  # the sale's points, no referral bonus


async def test_a_member_who_claims_staff_on_line_and_loses_it_keeps_her_membership(
    app: App, world: HttpWorld
) -> None:
    await make_staff(app, OWNER, "owner")
    await ensure_branches(app, ("asoke",))
    ploy = await _linked(app, world, points=500)
    nok = await make_member(app, "Nok", "089-999-0000", user_id=TG_OTHER)
    invite = await world.say("telegram", OWNER, "/staff invite cashier asoke")
    [claim] = [ln for ln in invite.splitlines() if ln.startswith("/claim ")]
    await world.say("line", LINE, claim)
    assert "Your points: 500" in await world.say("line", LINE, "/points")
    await world.say("line", LINE, f"/sale {ploy.member_code} 250 receipt=OWN")  # her own: refused
    await world.say("line", LINE, f"/sale {nok.member_code} 250 receipt=N1")
    assert [s.receipt_no for s in await rows(app, Sale)] == ["N1"]
    [cashier] = [s for s in await rows(app, Staff) if s.user_id == LINE]
    await world.press("telegram", OWNER, f"stf:rmok:{cashier.id}")
    await world.say("line", LINE, f"/sale {nok.member_code} 250 receipt=N2")
    assert [s.receipt_no for s in await rows(app, Sale)] == ["N1"]
    for channel, user in (("line", LINE), ("telegram", TG)):
        assert "Your points: 500" in await world.say(channel, user, "/points")


async def test_a_receipt_goes_to_telegram_once_the_line_account_unfollowed(
    app: App, world: HttpWorld, clock: FrozenClock
) -> None:
    ploy = await _linked(app, world)
    await make_staff(app, CASHIER, "cashier", "asoke")
    clock.advance(timedelta(minutes=5))
    await world.say("line", LINE, "hello")
    await world.block("line", LINE)
    await world.say("telegram", CASHIER, f"/sale {ploy.member_code} 250 receipt=R1")
    to_her = [r for r in await rows(app, OutboxMessage) if r.member_id == ploy.id]
    assert [(r.channel, r.user_id) for r in to_her if "R1" in json.dumps(r.payload)] == [
        ("telegram", TG)
    ]
