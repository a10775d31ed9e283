"""Branches named in segment rules, from outside: a rule keeps meaning the branches it named
when they are renamed, and a branch code names that branch and no other.

Segment rules take a branch's code, English or Thai name (``branch in (สุขุมวิท)``); the
owner later renames branches (a name is for display: codes are what stay).
"""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from shop.branches import add_branch, rename_branch
from tests.chat import Chat
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


async def _sizes(owner: Chat) -> str:
    await owner.say("/segments")
    return owner.text()


async def test_a_segment_naming_a_branch_by_name_survives_its_renaming(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branches(app)
    owner = await staff_chat(app, "own", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await add_sale(app, ploy.id, "sukhumvit", clock.now(), "80.00")
    await owner.say("/segment new sukhumvit_visitors branch in (สุขุมวิท)")
    assert "1 member" in owner.text(), owner.text()
    async with app.uow() as uow:
        await rename_branch(uow, "sukhumvit", "สุขุมวิท 39", "Sukhumvit 39", "t", clock.now())
        await uow.commit()
    await owner.say("/segment show sukhumvit_visitors")
    assert "Segment sukhumvit_visitors: 1 member" in owner.text(), owner.text()
    assert "sukhumvit_visitors — 1 member" in await _sizes(owner)


async def test_a_branch_code_in_a_rule_names_that_branch_only(app: App, clock: FrozenClock) -> None:
    """Ladprao's branch is in Central Ladprao ("Central" in English); CentralWorld's code is
    ``central``. A rule naming the code ``central`` is about CentralWorld."""
    async with app.uow() as uow:
        await add_branch(uow, "ladprao", "ลาดพร้าว", "Central", "t", clock.now())
        await add_branch(uow, "central", "เซ็นทรัลเวิลด์", "CentralWorld", "t", clock.now())
        await uow.commit()
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await make_member(app, "Ploy", "081-111-0001", home_branch_code="ladprao")
    await make_member(app, "Nok", "081-111-0002", home_branch_code="central")
    await owner.say("/segment new cw home_branch = central")
    assert "1 member right now" in owner.text(), owner.text()


async def test_a_branch_name_two_branches_share_is_refused_in_a_rule(
    app: App, clock: FrozenClock
) -> None:
    async with app.uow() as uow:
        await add_branch(uow, "paragon", "สยาม", "Siam Paragon", "t", clock.now())
        await add_branch(uow, "square", "สยาม", "Siam Square", "t", clock.now())
        await uow.commit()
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await owner.say("/segment new siam branch in (สยาม)")
    said = t("en", "segment.shared_branch", word="สยาม", position=12, suggestion="paragon, square")
    assert owner.text() == said
    async with app.uow() as uow:
        assert await uow.segments.all() == []


async def test_a_rule_naming_branches_by_name_is_kept_by_their_codes(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branches(app)
    async with app.uow() as uow:
        await rename_branch(uow, "sukhumvit", "สุขุมวิท 39", "Sukhumvit 39", "t", clock.now())
        await uow.commit()
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await owner.say('/segment new two branch in ("Sukhumvit 39", Asoke) or home_branch = อโศก')
    async with app.uow() as uow:
        [segment] = await uow.segments.all()
    assert segment.rule == "branch in (sukhumvit, asoke) or home_branch = asoke", owner.text()
