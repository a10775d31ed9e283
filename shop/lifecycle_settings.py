"""The lifecycle thresholds as the owner changes them (chat /settings and the web console):
first the members each group would hold with the typed value against today's counts, then the
save — checked again, since another change may have moved the other thresholds meanwhile."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shop.campaigns.launch import segment_env
from shop.settings_changes import ChangedBy, save_setting
from shop.settings_values import LIFECYCLE_FIELDS, check_lifecycle, lifecycle_value, stored_value
from storage.reports import lifecycle_counts
from storage.segments.lifecycle import SETTINGS_KEY, LifecycleRules
from storage.uow import UnitOfWork


async def current_rules(uow: UnitOfWork) -> LifecycleRules:
    return LifecycleRules.from_setting(await uow.settings.get(SETTINGS_KEY))


async def impact(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo, rules: LifecycleRules, changed: LifecycleRules
) -> list[tuple[str, int, int]]:
    """(group, members today, members with ``changed``) for every lifecycle group."""
    env = await segment_env(uow, now, tz)
    before = await lifecycle_counts(uow, replace(env, lifecycle=rules))
    after = await lifecycle_counts(uow, replace(env, lifecycle=changed))
    return [(group, count, after[group]) for group, count in before.items()]


async def save_threshold(uow: UnitOfWork, by: ChangedBy, field: str, value: Any) -> None:
    """Store threshold ``field`` as :func:`lifecycle_value` wrote it (``InvalidInput`` when
    it now contradicts the others; nothing changes)."""
    if field not in LIFECYCLE_FIELDS:
        raise ValueError(f"no lifecycle threshold {field!r}")
    # the thresholds are checked against each other: against the others as stored once any
    # other writer has committed, so two changes that each fit but not together are refused
    await uow.settings.lock(by.now)
    stored = await uow.settings.get(SETTINGS_KEY) or {}
    rules = LifecycleRules.from_setting(stored)
    check_lifecycle(replace(rules, **{field: stored_value(field, value)}))
    before = lifecycle_value(rules, field)
    stored[field] = value
    await save_setting(
        uow, SETTINGS_KEY, stored, by, field=field, before=before, after=value, entry=field
    )
