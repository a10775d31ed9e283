"""Branch pickers a page at a time (:mod:`handlers.branch_pages`): a chain of 45 branches is
shown 20 at a time with a button to the next page, a branch on any page is one tap, and buttons
of a page shown earlier still work after the page changed."""

from __future__ import annotations

from collections.abc import Sequence

from bot.bootstrap import App
from bot.core.messages import Reply
from storage.models import Branch, Reward, Segment
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.journey_support import buttons, join, only_member, rows
from tests.unit.staff_support import staff_chat

CHAIN = 45  # pages of 20, 20 and 5


async def add_chain(app: App) -> list[int]:
    """Branches c00…c44, open, in the order the pickers show them; their ids."""
    async with app.uow() as uow:
        branches = [
            Branch(code=f"c{i:02d}", name_th=f"สาขา {i:02d}", name_en=f"Branch {i:02d}")
            for i in range(CHAIN)
        ]
        session_of(uow).add_all(branches)
        await uow.flush()
        ids = [branch.id for branch in branches]
        await uow.commit()
    return ids


def picks(replies: Sequence[Reply], prefix: str) -> list[str]:
    return [a for a in buttons(replies) if a.startswith(prefix) and not a.endswith(":skip")]


async def test_sign_up_shows_twenty_branches_a_page_and_takes_one_on_the_last_page(
    app: App,
) -> None:
    ids = await add_chain(app)
    chat = Chat(app, language_code="en")
    # a branch that does not exist: the sign-up asks the branch question again, page 1
    first = await join(chat, branch="none")
    assert picks(first, "su:b:") == [f"su:b:{i}" for i in ids[:20]]
    assert "su:b:skip" in buttons(first)
    assert "Branches page 1 of 3." in first[-1].text
    second = await chat.press_label("More branches ▸")
    assert picks(second, "su:b:") == [f"su:b:{i}" for i in ids[20:40]]
    last = await chat.press("su:bp:2")
    assert picks(last, "su:b:") == [f"su:b:{i}" for i in ids[40:]]
    assert "Branches page 3 of 3." in last[-1].text
    assert "su:bp:0" in buttons(last)  # the last page leads back to the first
    await chat.press(f"su:b:{ids[44]}")
    assert (await only_member(app)).home_branch_id == ids[44]


async def test_a_branch_button_of_an_earlier_page_still_picks_its_branch(app: App) -> None:
    ids = await add_chain(app)
    chat = Chat(app)
    await join(chat)
    await chat.press("prof:branch")
    await chat.press("pf:bp:1")
    await chat.press("pf:bp:2")
    await chat.press("pf:bp:1")  # a stale page button opens its page again
    assert picks(chat.last, "pf:b:") == [f"pf:b:{i}" for i in ids[20:40]]
    await chat.press(f"pf:b:{ids[3]}")  # shown on page 1, pressed while page 2 is shown
    assert (await only_member(app)).home_branch_id == ids[3]


async def test_a_forged_or_out_of_range_page_shows_a_page_that_exists(app: App) -> None:
    ids = await add_chain(app)
    chat = Chat(app)
    await join(chat)
    await chat.press("prof:branch")
    await chat.press("pf:bp:99")
    assert picks(chat.last, "pf:b:") == [f"pf:b:{i}" for i in ids[40:]]
    await chat.press("pf:bp:-1")
    assert picks(chat.last, "pf:b:") == [f"pf:b:{i}" for i in ids[:20]]
    assert (await only_member(app)).home_branch_id is None


async def test_a_shop_of_twenty_branches_sees_one_page_without_a_page_button(app: App) -> None:
    async with app.uow() as uow:
        session_of(uow).add_all(
            Branch(code=f"d{i:02d}", name_th=f"สาขา {i}", name_en=f"B {i}") for i in range(20)
        )
        await uow.commit()
    chat = Chat(app)
    replies = await join(chat, branch="none")  # asked again: no such branch
    assert len(picks(replies, "su:b:")) == 20
    assert not [a for a in buttons(replies) if a.startswith("su:bp:")]
    assert "หน้า" not in replies[-1].text


async def test_segment_wizard_picks_branches_on_two_pages_and_stays_on_the_pressed_page(
    app: App,
) -> None:
    await add_chain(app)
    manager = await staff_chat(app, "m1", "owner", language_code="en")
    page = await manager.say("/segment new far")
    assert picks(page, "segw:b:c") == [f"segw:b:c{i:02d}" for i in range(20)]
    assert "Step 1/4" in page[-1].text
    assert "page 1 of 3" in page[-1].text
    await manager.press_label("More branches ▸")
    toggled = await manager.press("segw:b:c25")
    assert picks(toggled, "segw:b:c") == [f"segw:b:c{i:02d}" for i in range(20, 40)]
    assert "✓ Branch 25" in [b.label for r in toggled for b in r.buttons]
    again = await manager.press("segw:b:c02")  # a button of page 1, pressed on page 2
    assert "✓ Branch 02" in [b.label for r in again for b in r.buttons]
    await manager.press("segw:b:next")
    await manager.press("segw:r:any")
    await manager.press("segw:v:any")
    await manager.press("segw:m:any")
    await manager.press("segw:save")
    (segment,) = await rows(app, Segment, Segment.name == "far")
    assert segment.rule == "branch in (c25, c02)"


async def test_reward_wizard_limits_a_reward_to_a_branch_on_the_last_page(app: App) -> None:
    """/settings → add a reward → "only these branches": every open branch of a chain is
    offered, 20 a page, and one on the last page is chosen (page 1's ticks kept)."""
    await add_chain(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    await owner.press("set:rw")
    await owner.press("set:rwadd")
    for answer in ("ชาไทย", "Thai tea", "120", "50"):
        await owner.say(answer)
    await owner.press("setv:skip")
    first = await owner.press("setv:skip")
    assert picks(first, "setv:br:") == [f"setv:br:c{i:02d}" for i in range(20)]
    assert "Branches page 1 of 3." in first[-1].text
    await owner.press("setv:br:c03")
    await owner.press_label("More branches ▸")
    last = await owner.press("setv:bp:2")
    assert picks(last, "setv:br:") == [f"setv:br:c{i:02d}" for i in range(40, CHAIN)]
    ticked = await owner.press("setv:br:c44")
    assert "✓ Branch 44" in [b.label for r in ticked for b in r.buttons]
    await owner.press("setv:done")
    await owner.press("setv:d30")
    await owner.press("setv:save")
    (reward,) = await rows(app, Reward)
    assert reward.branch_codes == ["c03", "c44"]


async def test_reward_wizard_refuses_a_forged_branch_and_keeps_the_choice(app: App) -> None:
    await add_chain(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    await owner.press("set:rw")
    await owner.press("set:rwadd")
    for answer in ("ชาไทย", "Thai tea", "120", "50"):
        await owner.say(answer)
    await owner.press("setv:skip")
    await owner.press("setv:skip")
    await owner.press("setv:br:c30")
    await owner.press("setv:br:nope")
    await owner.press("setv:bp:x")  # not a page number: page 1
    await owner.press("setv:done")
    await owner.press("setv:d30")
    await owner.press("setv:save")
    (reward,) = await rows(app, Reward)
    assert reward.branch_codes == ["c30"]
