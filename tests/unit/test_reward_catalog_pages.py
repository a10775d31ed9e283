"""/settings → Rewards a page at a time: a shop of 45 rewards sees them 20 a page with a button
to the next page, and every reward (the 45th too) opens with one tap to be edited, closed or
restocked from the chat."""

from __future__ import annotations

from collections.abc import Sequence

from bot.bootstrap import App
from bot.core.messages import Reply
from tests.unit.journey_support import buttons
from tests.unit.rewards_support import make_reward, reward_row
from tests.unit.staff_support import audit_rows, member_chat, staff_chat

CATALOG = 45  # pages of 20, 20 and 5


async def add_catalog(app: App) -> list[int]:
    """Rewards 00…44, in the order the catalog lists them; their ids."""
    made = [
        await make_reward(app, f"รางวัล {i:02d}", f"Reward {i:02d}", cost=10 + i)
        for i in range(CATALOG)
    ]
    return [reward.id for reward in made]


def opened(replies: Sequence[Reply]) -> list[str]:
    """The reward buttons of a catalog page (``set:rw:ID``)."""
    return [a for a in buttons(replies) if a.startswith("set:rw:")]


def turns(replies: Sequence[Reply]) -> list[str]:
    return [a for a in buttons(replies) if a.startswith("set:rwp:")]


async def test_every_reward_of_a_45_reward_catalog_is_one_tap_on_its_page(app: App) -> None:
    ids = await add_catalog(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    page = await owner.press("set:rw")
    assert "set:rwadd" in buttons(page)
    assert "Rewards page 1 of 3." in page[-1].text
    offered: list[str] = []
    for _ in range(3):
        offered += opened(page)
        [turn] = turns(page)
        page = await owner.press(turn)
    assert offered == [f"set:rw:{i}" for i in ids]
    assert opened(page) == offered[:20]  # the last page leads back to the first
    last = await owner.press("set:rwp:2")
    assert f"#{ids[44]} Reward 44" in last[-1].text
    assert f"#{ids[19]} Reward 19" not in last[-1].text  # each page lists its own lines
    assert f"#{ids[44]} Reward 44" in [b.label for r in last for b in r.buttons]


async def test_the_45th_reward_is_opened_edited_and_closed_from_the_chat(app: App) -> None:
    ids = await add_catalog(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:rw")
    await owner.press_label("More rewards ▸")
    await owner.press_label("More rewards ▸")
    shown = await owner.press(f"set:rw:{ids[44]}")
    assert "set:rwp:2" in buttons(shown)  # back to the page it was opened from
    await owner.press(f"set:rwe:{ids[44]}:cost")
    await owner.say("99")
    await owner.press(f"set:rwt:{ids[44]}")
    stored = await reward_row(app, ids[44])
    assert (stored.points_cost, stored.active) == (99, False)
    [edit] = [a.details for a in await audit_rows(app, "reward.updated")][:1]
    assert (edit["field"], edit["before"], edit["after"]) == ("points_cost", 54, 99)


async def test_a_stale_or_forged_catalog_page_opens_a_page_that_exists(app: App) -> None:
    ids = await add_catalog(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    assert opened(await owner.press("set:rwp:9")) == [f"set:rw:{i}" for i in ids[40:]]
    assert opened(await owner.press("set:rwp:-1")) == [f"set:rw:{i}" for i in ids[:20]]
    assert opened(await owner.press("set:rwp:x")) == [f"set:rw:{i}" for i in ids[:20]]


async def test_a_catalog_of_twenty_rewards_is_one_page_without_a_page_button(app: App) -> None:
    for i in range(20):
        await make_reward(app, f"รางวัล {i}", f"Reward {i}")
    owner = await staff_chat(app, "o1", "owner")
    page = await owner.press("set:rw")
    assert len(opened(page)) == 20
    assert turns(page) == []
    assert "หน้า" not in page[-1].text


async def test_a_member_on_a_page_of_rewards_out_of_reach_is_told_where_theirs_are(
    app: App,
) -> None:
    """Before: the second page (every reward on it out of reach, those in reach on the first:
    the catalog is ordered by price) ended "Choose a reward:" above no reward to choose."""
    for i in range(5):
        await make_reward(app, f"ถูก {i}", f"Cheap {i}", cost=10)
    for i in range(20):
        await make_reward(app, f"แพง {i}", f"Dear {i}", cost=500)
    member, _ = await member_chat(app, locale="en", points=100)
    first = await member.say("/rewards")
    assert len([a for a in buttons(first) if a.startswith("rw:pick:")]) == 5
    assert "Choose a reward:" in first[-1].text
    second = await member.press("rw:page:1")
    assert [a for a in buttons(second) if a.startswith("rw:pick:")] == []
    assert "Choose a reward:" not in second[-1].text
    assert "earlier pages" in second[-1].text
