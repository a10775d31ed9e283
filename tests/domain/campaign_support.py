"""Helpers for the contact policy and campaign launch tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from shop.campaigns.launch import LaunchResult, segment_env, start_campaign
from shop.contact_policy import ContactPolicy, eligibility
from storage.models import Campaign, CampaignMember, Member
from storage.raw_session import session_of
from storage.repositories.enrolment import Enrolments
from wording.campaigns import CampaignWording

EVERYONE = "points >= 0"


async def make_campaign(app: App, segment: str = EVERYONE, **fields: Any) -> Campaign:
    """A draft campaign to ``segment`` (a rule or a segment name); ``fields`` override."""
    values: dict[str, Any] = {
        "name": "Tea time",
        "kind": "campaign",
        "segment_name": segment[:40],
        "rule": segment,
        "message": "Khun {name}, {coupon}!",
        "button_label": None,
        "offer": {
            "kind": "buy_x_get_y",
            "value": "1-1",
            "weekdays": [0, 1, 2, 3, 4],
            "hours": [14, 16],
        },
        "holdout_pct": 10,
        "status": "draft",
        "created_by": "test",
        "created_at": app.clock.now(),
        **fields,
    }
    async with app.uow() as uow:
        campaign = await uow.campaigns.add(Campaign(**values))
        await uow.commit()
        return campaign


async def exclusions(
    app: App,
    member_ids: list[int],
    *,
    promotional: bool = True,
    policy: ContactPolicy | None = None,
    now: datetime | None = None,
) -> dict[int, str | None]:
    """member id → excluded reason (None when they may be written to)."""
    async with app.uow() as uow:
        env = await segment_env(uow, now or app.clock.now(), app.settings.tz)
        query = eligibility(
            env,
            select(Member.id).where(Member.id.in_(member_ids)),
            promotional=promotional,
            policy=policy or ContactPolicy(),
        )
        rows = (await session_of(uow).execute(query)).all()
    return {row.member_id: row.excluded for row in rows}


async def audience(app: App, campaign_id: int) -> list[CampaignMember]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign_id)
            .order_by(CampaignMember.member_id)
        )
        return list(result.scalars().all())


async def campaign_row(app: App, campaign_id: int) -> Campaign:
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        assert campaign is not None
        return campaign


class StagingKilled:
    """Makes the launch's staging of page ``page`` (1-based) raise ``RuntimeError(message)``,
    as a crash or a full disk part-way through a launch would; ``pages`` counts the calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, page: int, message: str) -> None:
        self.pages = 0
        self.real = Enrolments.stage
        self._monkeypatch = monkeypatch

        async def stage(*args: Any, **kwargs: Any) -> None:
            self.pages += 1
            if self.pages == page:
                raise RuntimeError(message)
            await self.real(*args, **kwargs)

        monkeypatch.setattr(Enrolments, "stage", stage)

    def heal(self) -> None:
        """The next launch stages every page."""
        self._monkeypatch.setattr(Enrolments, "stage", self.real)


async def launch_now(app: App, campaign_id: int, batch_size: int = 500) -> LaunchResult:
    """Start campaign ``campaign_id`` now, as the owner's send does, in pages of
    ``batch_size``, and commit."""
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        assert campaign is not None
        env = await segment_env(uow, app.clock.now(), app.settings.tz)
        result = await start_campaign(
            uow, campaign, env, app.clock.now(), wording=CampaignWording(), batch_size=batch_size
        )
        await uow.commit()
    return result
