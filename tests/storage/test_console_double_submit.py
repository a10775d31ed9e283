"""The web console's forms sent twice, or two of them at once, over HTTP: a double click on
"Add branch" or "Save segment", two owners' tabs, and a campaign's Cancel racing its Send.

On SQLite every write transaction takes the write lock first (``BEGIN IMMEDIATE``), so two
requests run one after the other. On PostgreSQL each request has a transaction and a
connection of its own: here they are made to meet where the race is (both past their checks
before either writes), so what a busy shop meets now and then happens every time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from shop.loyalty import SETTINGS_KEY as LOYALTY
from storage.models import Branch, Campaign, CampaignMember, OutboxMessage, Segment
from storage.raw_session import session_of
from storage.repositories.branches import Branches
from storage.repositories.campaigns import Campaigns
from storage.repositories.segments import Segments
from storage.repositories.settings import ShopSettings
from tests.storage.join_edges_support import on_postgres, until
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat

Post = Callable[[], Awaitable[ClientResponse]]


def _meet_before(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, parties: int) -> None:
    """The first ``parties`` calls of ``cls.name`` wait for one another before running: each
    request has made its checks and is about to write."""
    real = getattr(cls, name)
    barrier = asyncio.Barrier(parties)
    calls = 0

    async def meeting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= parties:
            await asyncio.wait_for(barrier.wait(), 20)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, meeting)


async def _twice(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, cls: type, name: str, post: Post
) -> list[int]:
    """The statuses of the same form sent twice at once (a double click)."""
    if on_postgres(engine):
        _meet_before(monkeypatch, cls, name, 2)
    answers = await asyncio.gather(post(), post())
    return sorted(answer.status for answer in answers)


async def _count(app: App, model: type, *where: Any) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(func.count()).select_from(model).where(*where))
        return int(found.scalar_one())


async def _owner(app: App, client: Any) -> Browser:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    browser = await signed_in(client, owner)
    return browser


async def test_add_branch_clicked_twice_adds_one_branch_and_says_why_not_the_second(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with console_client(app) as client:
        browser = await _owner(app, client)
        form = {"code": "asoke", "name_th": "อโศก", "name_en": "Asoke"}
        statuses = await _twice(
            engine,
            monkeypatch,
            Branches,
            "add",
            lambda: browser.post("/admin/settings/branches/add", form),
        )
    assert statuses == [303, 400]
    assert await _count(app, Branch) == 1
    assert len(await audit_rows(app, "branch.added")) == 1


async def test_save_segment_clicked_twice_saves_one_segment(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_branches(app, ("asoke",))
    async with console_client(app) as client:
        browser = await _owner(app, client)
        form = {"name": "asoke-home", "rule": "home_branch = asoke"}
        statuses = await _twice(
            engine,
            monkeypatch,
            Segments,
            "add",
            lambda: browser.post("/admin/segments/new", form),
        )
    assert statuses == [200, 400]
    assert await _count(app, Segment) == 1
    assert len(await audit_rows(app, "segment.created")) == 1


CAMPAIGN = {
    "name": "Weekday afternoons",
    "segment": "home_branch = asoke",
    "message": "คุณ{name} วันนี้รับ 1 แถม 1",
    "offer": "none",
    "value": "",
    "title": "-",
    "dates": "7",
    "window": "",
    "branches": "",
    "cost": "0",
    "label": "",
    "when": "",
    "holdout": "0",
}


async def _draft(app: App, browser: Browser) -> Campaign:
    await ensure_branches(app, ("asoke",))
    for n in range(4):
        await make_member(
            app, f"Ploy{n}", f"081{n:07d}", user_id=f"{7000 + n}", home_branch_code="asoke"
        )
    saved = await browser.post("/admin/campaigns/new", CAMPAIGN)
    assert saved.status == 303, await saved.text()
    async with app.uow() as uow:
        return (await session_of(uow).execute(select(Campaign))).scalar_one()


async def _pending_of(app: App, campaign_id: int) -> int:
    keys = select(CampaignMember.outbox_key).where(CampaignMember.campaign_id == campaign_id)
    return await _count(
        app, OutboxMessage, OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == "pending"
    )


async def test_cancel_racing_send_never_leaves_a_cancelled_campaign_with_messages_queued(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner presses Send in one tab and Cancel in another (or a manager cancels as the
    owner sends). Either the campaign is cancelled and nothing of it is queued, or it is
    sending and the cancel said it could not: never "cancelled" with messages on the way."""
    async with console_client(app) as client:
        owner = await _owner(app, client)
        campaign = await _draft(app, owner)
        path = f"/admin/campaigns/{campaign.id}"
        if on_postgres(engine):
            real = Campaigns.withdraw_pending
            launched = asyncio.Event()
            reached = asyncio.Event()

            async def withdraw_then_wait(self: Campaigns, campaign_id: int) -> int:
                withdrawn = await real(self, campaign_id)
                reached.set()
                await asyncio.wait_for(launched.wait(), 20)
                return withdrawn

            monkeypatch.setattr(Campaigns, "withdraw_pending", withdraw_then_wait)
            cancel = asyncio.create_task(owner.post(f"{path}/cancel", {"confirm": "yes"}))

            async def at_withdraw() -> bool:
                return reached.is_set()

            await until(at_withdraw, "the cancel's withdrawal")
            sent = await owner.post(f"{path}/send", {"confirm": "yes"})
            launched.set()
            cancelled = await cancel
        else:
            cancelled, sent = await asyncio.gather(
                owner.post(f"{path}/cancel", {"confirm": "yes"}),
                owner.post(f"{path}/send", {"confirm": "yes"}),
            )
        assert (cancelled.status, sent.status) == (200, 200)
    async with app.uow() as uow:
        status = (await session_of(uow).execute(select(Campaign.status))).scalar_one()
    pending = await _pending_of(app, campaign.id)
    assert (status, pending) in {("cancelled", 0), ("sending", 4)}, (status, pending)


async def test_send_clicked_twice_queues_each_member_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests reach the launch's claim together: one starts the campaign, the other
    is told it is no longer startable; one message per member is queued."""
    async with console_client(app) as client:
        owner = await _owner(app, client)
        campaign = await _draft(app, owner)
        path = f"/admin/campaigns/{campaign.id}/send"
        statuses = await _twice(
            engine,
            monkeypatch,
            Campaigns,
            "claim_start",
            lambda: owner.post(path, {"confirm": "yes"}),
        )
    assert statuses == [200, 200]
    assert await _pending_of(app, campaign.id) == 4
    assert await _count(app, OutboxMessage) == 4
    assert len(await audit_rows(app, "campaign.sent")) == 1


async def _loyalty_rules(app: App) -> dict[str, Any]:
    async with app.uow() as uow:
        return await uow.settings.get(LOYALTY) or {}


async def test_two_owners_changing_two_loyalty_rules_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One owner sets the welcome points in one tab as a co-owner sets baht per point in
    another; the shop's rules already hold a change from before."""
    async with console_client(app) as client:
        first = await _owner(app, client)
        other = await staff_chat(app, "o2", "owner", language_code="en")
        second = await signed_in(client, other)
        rule = {"field": "expiry_months", "value": "6"}
        assert (await first.post("/admin/settings/rules", rule)).status == 303
        if on_postgres(engine):
            _meet_before(monkeypatch, ShopSettings, "put", 2)
        answers = await asyncio.gather(
            first.post("/admin/settings/rules", {"field": "welcome_points", "value": "80"}),
            second.post("/admin/settings/rules", {"field": "baht_per_point", "value": "10"}),
        )
    assert [answer.status for answer in answers] == [303, 303]
    rules = await _loyalty_rules(app)
    assert (rules.get("welcome_points"), rules.get("expiry_months")) == (80, 6)
    assert str(rules.get("baht_per_point")) in ("10", "10.00")
