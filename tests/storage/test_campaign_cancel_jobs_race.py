"""A campaign's Cancel meeting the campaign jobs: the scheduled start starting it, and the
drained check closing it as ``sent``.

On SQLite the jobs and the cancel take the write lock in turn. On PostgreSQL each runs in a
transaction of its own: the first is held inside its transaction while the other commits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from jobs.campaigns import finish_drained_campaigns, start_due_campaigns
from storage.models import Campaign, CampaignMember, OutboxMessage
from storage.raw_session import session_of
from storage.repositories.campaigns import Campaigns
from tests.storage.loyalty_money_support import Held
from tests.storage.test_console_double_submit import CAMPAIGN
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


async def _owner_with_draft(app: App, client: object) -> tuple[Browser, int]:
    await ensure_branches(app, ("asoke",))
    for n in range(3):
        await make_member(
            app, f"Ploy{n}", f"081{n:07d}", user_id=f"{7000 + n}", home_branch_code="asoke"
        )
    owner = await signed_in(client, await staff_chat(app, "o1", "owner", language_code="en"))
    saved = await owner.post("/admin/campaigns/new", CAMPAIGN)
    assert saved.status == 303, await saved.text()
    async with app.uow() as uow:
        campaign = (await session_of(uow).execute(select(Campaign))).scalar_one()
    return owner, campaign.id


async def _state(app: App, campaign_id: int) -> tuple[str, int]:
    """The campaign's status and how many of its messages are still to go out."""
    keys = select(CampaignMember.outbox_key).where(CampaignMember.campaign_id == campaign_id)
    async with app.uow() as uow:
        session = session_of(uow)
        status = (await session.execute(select(Campaign.status))).scalar_one()
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == "pending")
        )
    return status, int(pending or 0)


async def test_a_cancel_meeting_the_scheduled_start_leaves_nothing_queued(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner cancels a scheduled campaign as its time comes: the cancel has withdrawn
    what was queued (nothing yet) when the job starts it (on PostgreSQL the start commits
    first). The campaign ends cancelled with nothing of it on the way."""
    async with console_client(app) as client:
        owner, campaign_id = await _owner_with_draft(app, client)
        async with app.uow() as uow:
            campaign = await uow.campaigns.get(campaign_id)
            assert campaign is not None
            campaign.status, campaign.scheduled_at = "scheduled", app.clock.now()
            await uow.commit()
        held = Held(monkeypatch, Campaigns, "withdraw_pending")
        cancelled, started = await held.while_held(
            lambda: owner.post(f"/admin/campaigns/{campaign_id}/cancel", {"confirm": "yes"}),
            lambda: start_due_campaigns(app),
            engine,
        )
        assert cancelled.status == 200
    assert await _state(app, campaign_id) == ("cancelled", 0), started


async def test_a_cancel_meeting_the_drained_check_stays_cancelled(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drained check has listed the sending campaigns when the owner cancels one with
    messages still queued (on PostgreSQL the cancel commits first): the check then finds
    none of them pending, as the cancel withdrew them, and must not call the campaign sent."""
    async with console_client(app) as client:
        owner, campaign_id = await _owner_with_draft(app, client)
        sent = await owner.post(f"/admin/campaigns/{campaign_id}/send", {"confirm": "yes"})
        assert sent.status == 200
        assert await _state(app, campaign_id) == ("sending", 3)
        app.clock.advance(timedelta(minutes=1))
        held = Held(monkeypatch, Campaigns, "sending")
        finished, cancelled = await held.while_held(
            lambda: finish_drained_campaigns(app),
            lambda: owner.post(f"/admin/campaigns/{campaign_id}/cancel", {"confirm": "yes"}),
            engine,
        )
        assert cancelled.status == 200
    assert finished == []
    assert await _state(app, campaign_id) == ("cancelled", 0)
