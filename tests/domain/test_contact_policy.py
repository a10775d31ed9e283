"""The contact policy: one eligibility query for every promotion, and quiet hours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.contact_policy import (
    ContactPolicy,
    in_quiet_hours,
    next_send_time,
    quiet_from,
)
from storage.models import ChannelIdentity
from storage.raw_session import session_of
from tests.domain.campaign_support import exclusions
from tests.unit.staff_support import make_member, member_chat, outbox_rows, staff_chat

BANGKOK = ZoneInfo("Asia/Bangkok")


def _bkk(hour: int, minute: int = 0, day: int = 6) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=BANGKOK)


def test_quiet_hours_wrap_midnight_in_shop_time() -> None:
    policy = ContactPolicy()
    assert in_quiet_hours(_bkk(21, 0), BANGKOK, policy)
    assert in_quiet_hours(_bkk(3, 0), BANGKOK, policy)
    assert not in_quiet_hours(_bkk(9, 0), BANGKOK, policy)
    assert not in_quiet_hours(_bkk(20, 59), BANGKOK, policy)


def test_send_time_in_the_evening_moves_to_next_morning_nine() -> None:
    assert next_send_time(_bkk(22, 30), BANGKOK, ContactPolicy()) == _bkk(9, 0, day=7)


def test_send_time_after_midnight_moves_to_the_same_morning() -> None:
    moment = _bkk(2, 15)
    result = next_send_time(moment, BANGKOK, ContactPolicy())
    assert result == _bkk(9, 0)
    assert result.tzinfo == UTC


def test_send_time_outside_quiet_hours_is_unchanged() -> None:
    assert next_send_time(_bkk(14, 0), BANGKOK, ContactPolicy()) == _bkk(14, 0)


def test_the_quiet_hours_begin_at_their_next_start_or_now_when_already_quiet() -> None:
    policy = ContactPolicy()
    assert quiet_from(_bkk(14, 0), BANGKOK, policy) == _bkk(21, 0)
    assert quiet_from(_bkk(22, 30), BANGKOK, policy) == _bkk(22, 30)
    assert quiet_from(_bkk(9, 0), BANGKOK, policy) == _bkk(21, 0)
    daytime = ContactPolicy(quiet_start=time(12, 0), quiet_end=time(13, 0))
    assert quiet_from(_bkk(14, 0), BANGKOK, daytime) == _bkk(12, 0, day=7)
    assert quiet_from(_bkk(14, 0), BANGKOK, daytime).tzinfo == UTC


def test_no_quiet_hours_never_begin() -> None:
    policy = ContactPolicy.from_setting({"quiet_hours": ["00:00", "00:00"]})
    assert quiet_from(_bkk(3, 0), BANGKOK, policy) is None


def test_policy_from_setting_reads_hours_and_caps_and_keeps_defaults_for_the_rest() -> None:
    policy = ContactPolicy.from_setting({"quiet_hours": ["22:00", "08:30"], "caps": {"fan": 5}})
    assert (policy.quiet_start, policy.quiet_end) == (time(22, 0), time(8, 30))
    assert policy.cap_for("fan") == 5
    assert policy.cap_for("deal_seeker") == 1
    assert policy.cap_for("unheard_of") == policy.cap_for("other")


def test_equal_quiet_start_and_end_means_no_quiet_hours() -> None:
    policy = ContactPolicy.from_setting({"quiet_hours": ["00:00", "00:00"]})
    assert not in_quiet_hours(_bkk(3, 0), BANGKOK, policy)


async def test_consenting_reachable_member_is_eligible(app: App) -> None:
    member = await make_member(app, user_id="m1")
    assert await exclusions(app, [member.id]) == {member.id: None}


async def test_member_without_marketing_consent_is_excluded_as_no_consent(app: App) -> None:
    member = await make_member(app, user_id="m1", marketing=False)
    assert await exclusions(app, [member.id]) == {member.id: "no_consent"}


async def test_member_who_sent_stop_is_excluded_as_stopped(app: App) -> None:
    chat, member = await member_chat(app, user_id="m1")
    await chat.say("/stop")
    assert await exclusions(app, [member.id]) == {member.id: "stopped"}


async def test_member_who_blocked_the_bot_is_excluded_as_unreachable(app: App) -> None:
    chat, member = await member_chat(app, user_id="m1")
    await chat.unfollow()
    assert await exclusions(app, [member.id]) == {member.id: "unreachable"}


async def test_member_without_any_chat_account_is_unreachable(app: App) -> None:
    member = await make_member(app, user_id=None)
    assert await exclusions(app, [member.id]) == {member.id: "unreachable"}


async def test_transactional_messages_ignore_consent_but_not_reachability(app: App) -> None:
    quiet = await make_member(app, "A", "0811111111", user_id="a", marketing=False)
    gone = await make_member(app, "B", "0822222222", user_id="b")
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(ChannelIdentity).where(ChannelIdentity.user_id == "b").values(reachable=False)
        )
        await uow.commit()
    result = await exclusions(app, [quiet.id, gone.id], promotional=False)
    assert result == {quiet.id: None, gone.id: "unreachable"}


_keys = itertools.count()


async def _promotions(app: App, member_id: int, count: int, at: datetime) -> None:
    async with app.uow() as uow:
        for _ in range(count):
            await uow.outbox.enqueue(
                f"test:{member_id}:{next(_keys)}",
                "telegram",
                "x",
                {"v": 1, "replies": []},
                at,
                member_id=member_id,
                promotional=True,
            )
        await uow.commit()


async def test_frequency_cap_of_the_members_group_excludes_once_reached(app: App) -> None:
    member = await make_member(app, user_id="m1")  # joined now: lifecycle group "new", cap 2
    await _promotions(app, member.id, 1, app.clock.now())
    assert await exclusions(app, [member.id]) == {member.id: None}
    await _promotions(app, member.id, 1, app.clock.now())
    assert await exclusions(app, [member.id]) == {member.id: "frequency_cap"}


async def test_promotions_older_than_the_cap_window_do_not_count(
    app: App, clock: FrozenClock
) -> None:
    member = await make_member(app, user_id="m1")
    await _promotions(app, member.id, 3, clock.now() - timedelta(days=8))
    assert await exclusions(app, [member.id]) == {member.id: None}


async def test_transactional_messages_do_not_count_towards_the_cap(app: App) -> None:
    member = await make_member(app, user_id="m1")
    async with app.uow() as uow:
        for n in range(5):
            await uow.outbox.enqueue(
                f"receipt:{n}",
                "telegram",
                "m1",
                {"v": 1, "replies": []},
                app.clock.now(),
                member_id=member.id,
            )
        await uow.commit()
    assert await exclusions(app, [member.id]) == {member.id: None}


async def test_cap_per_group_comes_from_the_policy(app: App) -> None:
    member = await make_member(app, user_id="m1")
    await _promotions(app, member.id, 1, app.clock.now())
    strict = ContactPolicy.from_setting({"caps": {"new": 1}})
    assert await exclusions(app, [member.id], policy=strict) == {member.id: "frequency_cap"}


async def test_sale_receipt_still_reaches_a_member_who_sent_stop(app: App) -> None:
    chat, member = await member_chat(app, user_id="m1")
    await chat.say("/stop")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await cashier.say(f"/sale {member.member_code} 120 receipt=R-1")
    receipts = [row for row in await outbox_rows(app) if row.member_id == member.id]
    assert receipts
    assert all(not row.promotional for row in receipts)
