"""Starting a campaign: audience snapshot, hold-out, exclusions and outbox rows, atomically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.wire import payload_to_replies
from jobs.campaigns import start_due_campaigns
from shop.campaigns.launch import in_holdout
from storage.models import CampaignMember, OutboxMessage
from storage.raw_session import session_of
from tests.domain.campaign_support import (
    StagingKilled,
    audience,
    campaign_row,
    launch_now,
    make_campaign,
)
from tests.unit.staff_support import make_member, outbox_rows, staff_chat


async def _members(app: App, count: int) -> list[int]:
    ids = []
    for n in range(count):
        member = await make_member(app, f"M{n}", f"08{n:08d}", user_id=f"u{n}")
        ids.append(member.id)
    return ids


def test_holdout_share_is_within_tolerance_on_a_thousand_members() -> None:
    held = sum(in_holdout(7, member_id, 10) for member_id in range(1, 1001))
    assert 70 <= held <= 130


def test_holdout_is_deterministic_per_campaign_and_member() -> None:
    first = [in_holdout(7, member_id, 10) for member_id in range(1, 1001)]
    assert first == [in_holdout(7, member_id, 10) for member_id in range(1, 1001)]
    assert first != [in_holdout(8, member_id, 10) for member_id in range(1, 1001)]


def test_zero_percent_holdout_holds_nobody_out() -> None:
    assert not any(in_holdout(3, member_id, 0) for member_id in range(1, 1001))


@pytest.mark.e2e
async def test_start_writes_one_audience_row_per_member_and_outbox_rows_for_recipients(
    app: App,
) -> None:
    ids = await _members(app, 30)
    campaign = await make_campaign(app, holdout_pct=20)
    result = await launch_now(app, campaign.id, batch_size=7)
    rows = await audience(app, campaign.id)
    assert [row.member_id for row in rows] == ids
    held = {row.member_id for row in rows if row.group == "holdout"}
    assert held == {i for i in ids if in_holdout(campaign.id, i, 20)}
    queued = await outbox_rows(app, f"cmp:{campaign.id}:")
    assert {row.member_id for row in queued} == set(ids) - held
    assert all(row.promotional for row in queued)
    assert result.queued == len(queued) == len(ids) - len(held)
    assert (await campaign_row(app, campaign.id)).status == "sending"


async def test_recipient_message_is_personalised_and_carries_the_claim_button(app: App) -> None:
    member = await make_member(app, "Ploy", user_id="m1", locale="en")
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    [row] = await outbox_rows(app, f"cmp:{campaign.id}:")
    [reply] = payload_to_replies(row.payload)
    assert reply.text == "Khun Ploy, Buy 1 get 1!"
    assert [b.action for b in reply.buttons] == [f"cmp:{campaign.id}"]
    assert (row.member_id, row.user_id) == (member.id, "m1")


async def test_excluded_members_are_recorded_with_their_reason_and_get_nothing(app: App) -> None:
    ok = await make_member(app, "A", "0811111111", user_id="a")
    no = await make_member(app, "B", "0822222222", user_id="b", marketing=False)
    gone = await make_member(app, "C", "0833333333", user_id=None)
    campaign = await make_campaign(app, holdout_pct=0)
    result = await launch_now(app, campaign.id)
    reasons = {row.member_id: row.excluded for row in await audience(app, campaign.id)}
    assert reasons == {ok.id: None, no.id: "no_consent", gone.id: "unreachable"}
    assert [row.member_id for row in await outbox_rows(app, "cmp:")] == [ok.id]
    assert dict(result.excluded) == {"no_consent": 1, "unreachable": 1}


async def test_a_campaign_starts_only_once(app: App) -> None:
    await _members(app, 5)
    campaign = await make_campaign(app)
    assert (await launch_now(app, campaign.id)).started
    again = await launch_now(app, campaign.id)
    assert not again.started
    assert len(await audience(app, campaign.id)) == 5


async def test_failure_midway_leaves_no_snapshot_no_outbox_and_a_draft(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _members(app, 12)
    campaign = await make_campaign(app, holdout_pct=0)
    StagingKilled(monkeypatch, 2, "disk full")
    with pytest.raises(RuntimeError):
        await launch_now(app, campaign.id, batch_size=5)
    async with app.uow() as uow:
        members = await session_of(uow).scalar(select(func.count()).select_from(CampaignMember))
        queued = await session_of(uow).scalar(select(func.count()).select_from(OutboxMessage))
    assert (members, queued) == (0, 0)
    assert (await campaign_row(app, campaign.id)).status == "draft"


async def test_cancel_withdraws_pending_messages_and_keeps_sent_ones(app: App) -> None:
    await _members(app, 4)
    campaign = await make_campaign(app, holdout_pct=0)
    await launch_now(app, campaign.id)
    first = (await outbox_rows(app, "cmp:"))[0]
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.id == first.id).values(status="sent")
        )
        await uow.commit()
    manager = await staff_chat(app, "boss", "manager")
    await manager.say(f"/campaign cancel {campaign.id}")
    statuses = [row.status for row in await outbox_rows(app, "cmp:")]
    assert statuses == ["sent", "cancelled", "cancelled", "cancelled"]
    assert (await campaign_row(app, campaign.id)).status == "cancelled"


async def test_scheduled_campaign_starts_when_its_time_comes_and_only_once(
    app: App, clock: FrozenClock
) -> None:
    await _members(app, 3)
    at = clock.now() + timedelta(hours=2)
    campaign = await make_campaign(app, status="scheduled", scheduled_at=at, holdout_pct=0)
    assert await start_due_campaigns(app) == []
    clock.advance(timedelta(hours=2))
    assert await start_due_campaigns(app) == [campaign.id]
    assert await start_due_campaigns(app) == []
    assert len(await outbox_rows(app, f"cmp:{campaign.id}:")) == 3
