"""/settings → Lifecycle groups: a threshold change shows the members each group would hold
before it is saved, then takes effect in the segments; refused values change nothing."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from tests.unit.settings_support import changes, stored
from tests.unit.staff_support import audit_rows, make_member, staff_chat


async def _members_joined(app: App, clock: FrozenClock, days_ago: list[int]) -> None:
    now = clock.now()
    for i, days in enumerate(days_ago):
        clock.set(now - timedelta(days=days))
        await make_member(app, f"M{i}", f"08123450{i:02d}", user_id=f"m{i}")
    clock.set(now)


async def test_the_counts_each_change_would_give_are_shown_before_saving(
    app: App, clock: FrozenClock
) -> None:
    await _members_joined(app, clock, [5, 20, 40, 50])
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/segments")
    assert "New (new) — 2 members" in owner.text()
    await owner.press("set:lc")
    await owner.press("set:lce:new_days")
    await owner.say("45")
    text = owner.text()
    assert "30 → 45" in text
    assert "new: 2 → 3" in text
    assert "other: 2 → 1" in text
    assert "lapsed: 0 (no change)" in text
    assert await stored(app, "lifecycle") is None  # nothing saved before Save
    await owner.press("setv:save")
    assert await stored(app, "lifecycle") == {"new_days": 45}
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["field"], audit.details["before"], audit.details["after"]) == (
        "new_days",
        30,
        45,
    )
    await owner.say("/segments")
    assert "New (new) — 3 members" in owner.text()


async def test_cancel_at_the_counts_changes_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:lce:lapsed_days")
    await owner.say("90")
    assert "60 → 90" in owner.text()
    await owner.say("yes")  # typed instead of pressing a button
    assert "ปุ่ม" in owner.text()
    await owner.press("setv:cancel")
    assert await stored(app, "lifecycle") is None
    assert await changes(app) == 0


async def test_a_share_is_typed_as_a_percentage(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:lce:deal_share")
    await owner.say("40%")
    assert "50% → 40%" in owner.text()
    await owner.press("setv:save")
    assert await stored(app, "lifecycle") == {"deal_share": "0.4"}


async def test_thresholds_that_contradict_each_other_are_refused(app: App) -> None:
    for user, language, expected in (
        ("o1", "th", "ขาประจำต้องมาบ่อยกว่าลูกค้าติดใจ"),
        ("o2", "en", "A regular needs more visits than a returning member"),
    ):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:lce:regular_min")
        await owner.say("2")  # returning members already start at 2 visits
        assert expected in owner.text()
    owner = await staff_chat(app, "o3", "owner", language_code="en")
    await owner.press("set:lce:new_days")
    await owner.say("0")
    assert "from 1 to 365" in owner.text()
    await owner.say("a month")
    assert "from 1 to 365" in owner.text()
    assert await stored(app, "lifecycle") is None
    assert await changes(app) == 0


async def test_an_owner_removed_before_saving_cannot_save(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:lce:new_days")
    await owner.say("45")
    async with app.uow() as uow:
        staff = await uow.staff.by_identity("telegram", "o1")
        assert staff is not None
        staff.active = False
        await uow.commit()
    await owner.press("setv:save")
    assert await stored(app, "lifecycle") is None
    assert await changes(app) == 0
