"""Each branch's till numbers its own receipts: one number printed by two branches is two
sales, and /void names the branch when the number alone does not say which sale. The manager
a low rating alerted answers it, and nobody else of another branch does."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from jobs.feedback import run_feedback
from tests.unit.inbox_support import add_sale, feedback_rows
from tests.unit.sales_support import actions_of, balance, queued, sales
from tests.unit.staff_support import (
    ensure_branch,
    ensure_branches,
    make_member,
    member_chat,
    staff_chat,
)


async def test_one_number_at_two_branches_is_voided_at_the_branch_named(app: App) -> None:
    await ensure_branches(app, ("asoke", "sukhumvit"))
    owner = await staff_chat(app, "own", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001")
    await owner.say(f"/sale {ploy.member_code} 100 receipt=R-1 branch=asoke")
    await owner.say(f"/sale {ploy.member_code} 100 receipt=R-1 branch=sukhumvit")
    await owner.say(f"/sale {ploy.member_code} 100 receipt=R-1 branch=sukhumvit")  # a replay
    assert len(await sales(app)) == 2
    assert await balance(app, ploy.id) == 8  # 4 points a sale
    await owner.say("/void R-1")
    assert owner.text() == t("en", "sale.branch_required", branches="asoke, sukhumvit")
    assert all(sale.voided_at is None for sale in await sales(app))
    await owner.say("/void R-1 branch=sukhumvit")
    sukhumvit = await ensure_branch(app, "sukhumvit")
    voided = {sale.branch_id for sale in await sales(app) if sale.voided_at is not None}
    assert voided == {sukhumvit}
    assert await balance(app, ploy.id) == 4


async def test_a_branch_manager_voids_their_own_branch_s_receipt_of_a_shared_number(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke", "sukhumvit"))
    ploy = await make_member(app, "Ploy", "081-111-0001")
    await (await staff_chat(app, "ca", "cashier", "asoke")).say(
        f"/sale {ploy.member_code} 100 receipt=R-1"
    )
    await (await staff_chat(app, "cs", "cashier", "sukhumvit")).say(
        f"/sale {ploy.member_code} 100 receipt=R-1"
    )
    manager = await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en")
    await manager.say("/void R-1")
    sukhumvit = await ensure_branch(app, "sukhumvit")
    voided = {sale.branch_id for sale in await sales(app) if sale.voided_at is not None}
    assert voided == {sukhumvit}, manager.text()


async def test_a_manager_of_a_branch_not_rated_may_not_answer_the_thread(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branches(app)
    ratchada = await staff_chat(app, "mr", "manager", "ratchada", language_code="en")
    sukhumvit = await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en")
    chat, member = await member_chat(app, home_branch_code="asoke")
    await chat.say("Is there parking at Asoke?")
    await add_sale(app, member.id, "sukhumvit", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:1")
    alerts = await queued(app, f"feedback:{feedback.id}:low")
    [answer] = [a for row in alerts if row.user_id == "ms" for a in actions_of(row) if "ibr:" in a]
    await ratchada.press(answer)
    assert ratchada.text() == t("en", "error.not_allowed"), ratchada.text()
    await sukhumvit.press(answer)
    assert sukhumvit.text() != t("en", "error.not_allowed"), sukhumvit.text()
