"""The campaign wizard's segment question with many saved segments: every built-in group and
every saved segment is a button (20 a page, then a page button), the 30th as reachable as the
first; a segment's button names it by id, so a long Thai name works as a short one; a button of
a segment deleted since gets the question again, nothing chosen."""

from __future__ import annotations

from collections.abc import Sequence

from bot.bootstrap import App
from bot.core.messages import Reply
from storage.segments import BUILTIN_SEGMENTS
from tests.unit.journey_support import buttons
from tests.unit.staff_support import staff_chat

SAVED = 30  # with the 7 built-in groups: pages of 20, 17


async def _save_segments(app: App) -> dict[str, int]:
    """Segments named so they sort as made (the list is by name); name → id."""
    async with app.uow() as uow:
        for i in range(SAVED):
            # 40 characters (a segment name's most), 114 bytes: no button's data carried it
            name = f"{i:02d} ลูกค้าสาขาสุขุมวิทที่มาบ่อยช่วงบ่ายวันธรรมดา"[:40]
            assert await uow.segments.add(name, f"points >= {i}", "owner", app.clock.now())
        await uow.commit()
        return {s.name: s.id for s in await uow.segments.all()}


def _chosen(replies: Sequence[Reply]) -> list[str]:
    return [a for a in buttons(replies) if a.startswith(("cmpw:seg:", "cmpw:sid:"))]


async def test_every_saved_segment_is_a_button_a_page_at_a_time(app: App) -> None:
    saved = await _save_segments(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    first = await owner.say("/campaign new Afternoons")
    assert _chosen(first)[: len(BUILTIN_SEGMENTS)] == [f"cmpw:seg:{n}" for n in BUILTIN_SEGMENTS]
    assert len(_chosen(first)) == 20
    assert "cmpw:segp:1" in buttons(first)
    assert "cmpw:cancel" in buttons(first)
    second = await owner.press("cmpw:segp:1")
    ids = list(saved.values())
    assert _chosen(second) == [f"cmpw:sid:{i}" for i in ids[20 - len(BUILTIN_SEGMENTS) :]]
    assert "cmpw:segp:0" in buttons(second)  # the last page leads back to the first
    assert "2 of 2" in owner.text()
    name = list(saved)[-1]
    await owner.press(f"cmpw:sid:{saved[name]}")
    async with app.uow() as uow:
        state = await uow.conversations.get("telegram", "o1", app.clock.now())
    assert state is not None
    assert state.step == "message"
    assert state.data["rule"] == f"points >= {SAVED - 1}"


async def test_a_deleted_segments_button_asks_again(app: App) -> None:
    saved = await _save_segments(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/campaign new")
    gone = next(iter(saved.values()))
    async with app.uow() as uow:
        assert await uow.segments.delete(gone)
        await uow.commit()
    again = await owner.press(f"cmpw:sid:{gone}")
    assert "cmpw:seg:new" in buttons(again)
    for forged in ("cmpw:sid:x", "cmpw:sid:99999", "cmpw:segp:x", "cmpw:segp:-3"):
        assert "cmpw:seg:new" in buttons(await owner.press(forged))
    async with app.uow() as uow:
        state = await uow.conversations.get("telegram", "o1", app.clock.now())
    assert state is not None
    assert state.step == "segment"


async def test_a_built_in_group_is_still_chosen_by_its_button(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    first = await owner.say("/campaign new")
    assert "cmpw:segp:1" not in buttons(first)  # 7 groups and no saved segment: one page
    await owner.press("cmpw:seg:birthday_month")
    async with app.uow() as uow:
        state = await uow.conversations.get("telegram", "o1", app.clock.now())
    assert state is not None
    assert state.step == "message"
