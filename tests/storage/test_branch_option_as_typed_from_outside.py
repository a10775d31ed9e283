"""``branch=`` on the counter's commands as staff type it: the code in any case, the Thai
option word ``สาขา=``, categories in Thai and in two cases — and the branch's Thai name, what a
cashier on a Thai keyboard types first (segment rules read it: ``branch in (สุขุมวิท)``)."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from tests.chat import Chat
from tests.unit.sales_support import sales
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

PHONE = "0811111111"


async def _owner(app: App) -> tuple[Chat, dict[str, int]]:
    branches = await ensure_branches(app, ("asoke", "siam"))
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await make_member(app, "Ploy", PHONE, user_id="m1")
    return owner, branches


@pytest.mark.parametrize("option", ["branch=asoke", "branch=ASOKE", "สาขา=Asoke"])
async def test_a_branch_code_in_any_case_or_with_the_thai_word_places_the_sale(
    app: App, option: str
) -> None:
    owner, branches = await _owner(app)
    await owner.say(f"/sale {PHONE} 100 receipt=X1 {option} cat=ชา,ขนม,Tea,TEA")
    [sale] = await sales(app)
    assert sale.branch_id == branches["asoke"], owner.text()
    assert sale.categories == "ชา,ขนม,tea", sale.categories


async def test_a_branch_that_does_not_exist_is_refused_in_thai_with_nothing_written(
    app: App,
) -> None:
    owner, _ = await _owner(app)
    await owner.say(f"/sale {PHONE} 100 receipt=X1 branch=sukhumvit")
    assert "sukhumvit" in owner.text()
    assert "There is no" not in owner.text()
    assert await sales(app) == []


async def test_a_branch_named_by_its_thai_name_is_found_or_its_code_given(app: App) -> None:
    owner, branches = await _owner(app)
    await owner.say(f"/sale {PHONE} 100 receipt=X1 branch=อโศก")
    placed = [sale.branch_id for sale in await sales(app)] == [branches["asoke"]]
    assert placed or "asoke" in owner.text(), owner.text()


async def test_void_reads_a_branchs_thai_name_and_ask_when_two_share_it(
    app: App,
) -> None:
    owner, branches = await _owner(app)
    await owner.say(f"/sale {PHONE} 100 receipt=X1 branch=asoke")
    await owner.say(f"/sale {PHONE} 100 receipt=X1 branch=siam")
    await owner.say("/void X1 branch=อโศก")
    [voided] = [s for s in await sales(app) if s.voided_at is not None]
    assert voided.branch_id == branches["asoke"], owner.text()
    async with app.uow() as uow:
        siam = await uow.branches.get(branches["siam"])
        assert siam is not None
        siam.name_th = "อโศก"  # two branches called the same: which one is asked
        await uow.commit()
    await owner.say("/void X1 branch=อโศก")
    assert "asoke, siam" in owner.text(), owner.text()
    assert [s.voided_at is not None for s in await sales(app)].count(True) == 1
