"""Helpers for the /settings tests: stored settings, audit counts and a member's eligibility."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import App
from shop.campaigns.enrol import read_audience
from shop.campaigns.launch import segment_env
from shop.contact_policy import load_policy
from tests.unit.staff_support import audit_rows


async def stored(app: App, key: str) -> Any:
    async with app.uow() as uow:
        return await uow.settings.get(key)


async def changes(app: App) -> int:
    """How many ``settings.changed`` entries the audit holds."""
    return len(await audit_rows(app, "settings.changed"))


async def exclusion(app: App, member_id: int) -> str | None:
    """Why a promotion would leave the member out now (None: they would get it), by the query
    campaigns and automations share."""
    async with app.uow() as uow:
        env = await segment_env(uow, app.clock.now(), app.settings.tz)
        policy = await load_policy(uow.settings)
        [row] = await read_audience(uow, env, uow.audiences.members([member_id]), policy)
        return row.excluded
