"""``/sale`` as the counter meets it after its reads became one statement and its receipt one
``INSERT … SELECT``: a member whose chat accounts are blocked, a branch code typed in another
case, a shop whose branches are all closed or all but one, and the member notices of
``/adjust`` and ``/void`` for a member nobody can reach."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Branch
from storage.raw_session import session_of
from tests.unit.sales_support import ledger, queued, sales
from tests.unit.staff_support import (
    audit_rows,
    block_chat,
    ensure_branches,
    make_member,
    outbox_rows,
    staff_chat,
)

LINE_ID = "U" + "c" * 32


async def _close(app: App, *codes: str) -> None:
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(Branch).where(Branch.code.in_(codes)).values(active=False)
        )
        await uow.commit()


async def test_a_member_whose_only_account_is_blocked_gets_the_sale_and_no_receipt(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await block_chat(app, "m1")
    await cashier.say("/sale 0812345678 260")
    [sale] = await sales(app)
    assert sale.member_id == member.id
    assert await ledger(app, member.id) == [(10, "sale")]
    assert await queued(app, "receipt:") == []
    assert len(await audit_rows(app, "sale.recorded")) == 1
    assert cashier.text().startswith("✅"), cashier.text()


async def test_the_receipt_skips_the_account_seen_last_when_it_is_blocked(app: App) -> None:
    """LINE seen last but blocked, Telegram reachable: the receipt goes to Telegram."""
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    app.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    async with app.uow() as uow:
        line = await uow.identities.touch("line", LINE_ID, app.clock.now(), None, "th")
        line.member_id = member.id
        await uow.commit()
    await block_chat(app, LINE_ID)
    await cashier.say(f"/sale {member.member_code} 260")
    [sale] = await sales(app)
    [row] = await queued(app, f"receipt:{sale.id}")
    assert (row.channel, row.user_id) == ("telegram", "m1")


async def test_a_scoped_cashier_may_name_their_own_branch_in_capitals(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await cashier.say(f"/sale {member.member_code} 100 branch=ASOKE")
    assert [s.branch_id for s in await sales(app)] == [branches["asoke"]]
    await cashier.say(f"/sale {member.member_code} 100 branch=Ratchada")
    assert cashier.text() == t("en", "sale.other_branch", branch="asoke")
    assert len(await sales(app)) == 1


async def test_an_owner_names_a_branch_in_capitals(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {member.member_code} 100 สาขา=RATCHADA")
    assert [s.branch_id for s in await sales(app)] == [branches["ratchada"]]
    await owner.say(f"/sale {member.member_code} 100 branch=nowhere")
    assert owner.text() == t("en", "sale.unknown_branch", branch="nowhere")


async def test_with_one_branch_open_of_two_the_owner_need_not_name_it(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    await _close(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {member.member_code} 100")
    assert [s.branch_id for s in await sales(app)] == [branches["ratchada"]]
    await owner.say(f"/sale {member.member_code} 100 branch=asoke")
    assert owner.text() == t("en", "branches.closed_sale", branch="asoke")
    assert len(await sales(app)) == 1


async def test_a_shop_whose_branches_are_all_closed_records_no_sale(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    await _close(app, "asoke", "ratchada")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {member.member_code} 100")
    assert owner.text() == t("en", "sale.branches_closed", branches="asoke, ratchada")
    await owner.say("/sale 0899999999 100")  # an unknown member is named first, as before
    assert owner.text() == t("en", "error.no_member_with_phone", query="0899999999")
    assert await sales(app) == []
    assert await outbox_rows(app) == []


async def test_adjust_and_void_for_a_blocked_member_change_points_and_queue_nothing(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner", "asoke", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1", points=50)
    await owner.say(f"/sale {member.member_code} 260 receipt=R1")
    await block_chat(app, "m1")
    await owner.say(f"/adjust {member.member_code} -20 broken cup")
    await owner.say("/void R1")
    assert sorted(await ledger(app, member.id)) == sorted(
        [(50, "welcome"), (10, "sale"), (-20, "adjust"), (-10, "void")]
    )
    keys = [row.dedupe_key for row in await outbox_rows(app)]
    assert [k for k in keys if not k.startswith("receipt:")] == [], keys


async def test_a_shop_with_no_branch_yet_is_told_to_add_one(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    member = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {member.member_code} 100")
    assert owner.text() == t("en", "sale.no_branches")
    assert await sales(app) == []
