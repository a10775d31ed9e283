"""Two owners saving two entries of one setting at the same moment keep both: the contact
policy, the lifecycle thresholds and the automations settings, as the loyalty rules already do
(tests/storage/test_console_double_submit.py). Lifecycle thresholds are checked against each
other, so two changes that each fit the stored ones but not together: one is refused.

On PostgreSQL the two saves are made to meet where the race is (both have read the setting,
neither has written); on SQLite transactions that write go one after the other anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.errors import InvalidInput
from shop.automation_settings import BY_NAME, set_number
from shop.automations import SETTINGS_KEY as AUTOMATIONS_KEY
from shop.contact_policy import SETTINGS_KEY as POLICY_KEY
from shop.lifecycle_settings import save_threshold
from shop.loyalty import SETTINGS_KEY as LOYALTY_KEY
from shop.loyalty import TIER_NAMES
from shop.settings_changes import ChangedBy, set_contact_policy, set_tier_label
from storage.repositories.settings import ShopSettings
from storage.segments.lifecycle import SETTINGS_KEY as LIFECYCLE_KEY
from storage.segments.lifecycle import LifecycleRules
from storage.uow import UnitOfWork
from tests.storage.join_edges_support import on_postgres

NOW = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
Save = Callable[[UnitOfWork, ChangedBy], Awaitable[Any]]


def _meet_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first two settings writers wait for each other before either queues for the
    settings version (each has read what it needed to read by then, unless it waits first)."""
    real = ShopSettings._new_version
    barrier = asyncio.Barrier(2)
    calls = 0

    async def meeting(self: ShopSettings, now: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            await asyncio.wait_for(barrier.wait(), 20)
        await real(self, now)

    monkeypatch.setattr(ShopSettings, "_new_version", meeting)


async def _both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, first: Save, second: Save
) -> list[BaseException | None]:
    """Run two saves, each in its own transaction, at once; what each raised."""

    async def run(save: Save, actor: str) -> BaseException | None:
        try:
            async with app.uow() as uow:
                await save(uow, ChangedBy(actor, "telegram", NOW))
                await uow.commit()
        except InvalidInput as error:
            return error
        return None

    if not on_postgres(engine):
        return [await run(first, "staff:1"), await run(second, "staff:2")]
    _meet_before_writing(monkeypatch)
    return list(await asyncio.gather(run(first, "staff:1"), run(second, "staff:2")))


async def _setting(app: App, key: str) -> dict[str, Any]:
    async with app.uow() as uow:
        return await uow.settings.get(key) or {}


async def test_two_owners_changing_two_caps_of_the_contact_policy_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fan(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_contact_policy(uow, by, "cap", "fan", "5")

    async def lapsed(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_contact_policy(uow, by, "cap", "lapsed", "0")

    assert await _both(app, engine, monkeypatch, fan, lapsed) == [None, None]
    caps = (await _setting(app, POLICY_KEY))["caps"]
    assert (caps["fan"], caps["lapsed"]) == (5, 0)


async def test_quiet_hours_and_a_cap_changed_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def quiet(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_contact_policy(uow, by, "quiet", "", "22:00-08:00")

    async def days(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_contact_policy(uow, by, "days", "", "14")

    assert await _both(app, engine, monkeypatch, quiet, days) == [None, None]
    policy = await _setting(app, POLICY_KEY)
    assert (policy["quiet_hours"], policy["cap_days"]) == (["22:00", "08:00"], 14)


async def test_two_automation_numbers_changed_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def birthday(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_number(uow, by, BY_NAME["birthday"], "hour", "8")

    async def winback(uow: UnitOfWork, by: ChangedBy) -> None:
        await set_number(uow, by, BY_NAME["winback"], "lapsed_days", "45")

    assert await _both(app, engine, monkeypatch, birthday, winback) == [None, None]
    stored = await _setting(app, AUTOMATIONS_KEY)
    assert (stored["birthday"]["hour"], stored["winback"]["lapsed_days"]) == (8, 45)


async def test_two_lifecycle_thresholds_changed_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def new_days(uow: UnitOfWork, by: ChangedBy) -> None:
        await save_threshold(uow, by, "new_days", 20)

    async def lapsed_days(uow: UnitOfWork, by: ChangedBy) -> None:
        await save_threshold(uow, by, "lapsed_days", 90)

    assert await _both(app, engine, monkeypatch, new_days, lapsed_days) == [None, None]
    rules = LifecycleRules.from_setting(await _setting(app, LIFECYCLE_KEY))
    assert (rules.new_days, rules.lapsed_days) == (20, 90)


async def test_two_lifecycle_thresholds_that_contradict_together_are_not_both_stored(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Returning members from 4 visits fits regulars from 5; regulars from 3 fits returning
    from 2: together a regular would need fewer visits than a returning member."""

    async def returning(uow: UnitOfWork, by: ChangedBy) -> None:
        await save_threshold(uow, by, "returning_min", 4)

    async def regular(uow: UnitOfWork, by: ChangedBy) -> None:
        await save_threshold(uow, by, "regular_min", 3)

    outcomes = await _both(app, engine, monkeypatch, returning, regular)
    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    rules = LifecycleRules.from_setting(await _setting(app, LIFECYCLE_KEY))
    assert rules.regular_min > rules.returning_min


async def test_two_tier_labels_named_at_once_keep_both(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another tier, and the same tier in another language: each label is its own entry."""

    async def member_th(uow: UnitOfWork, by: ChangedBy) -> None:
        assert await set_tier_label(uow, by, "member", "th", "ลูกค้าคนสำคัญ")

    async def member_en(uow: UnitOfWork, by: ChangedBy) -> None:
        assert await set_tier_label(uow, by, "member", "en", "Friend")

    async def gold_en(uow: UnitOfWork, by: ChangedBy) -> None:
        assert await set_tier_label(uow, by, "gold", "en", "VIP")

    assert await _both(app, engine, monkeypatch, member_th, member_en) == [None, None]
    monkeypatch.undo()
    assert await _both(app, engine, monkeypatch, member_en, gold_en) == [None, None]
    names = (await _setting(app, LOYALTY_KEY))[TIER_NAMES]
    assert names == {"member": {"th": "ลูกค้าคนสำคัญ", "en": "Friend"}, "gold": {"en": "VIP"}}
