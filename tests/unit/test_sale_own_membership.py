"""Staff and their own membership: a cashier or manager records no sale, and a manager makes no
points correction, to the membership of their own chat account (whatever names it: phone,
member code, another linked account); an owner may, in their own shop.

Otherwise a cashier could sell to themselves, spend the points on a reward and void the sale
within their 30 minutes: the points are written off and the coupon stays good.
"""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import t
from tests.unit.sales_support import approvals, balance, ledger, sales
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat

LINE_CASHIER = "U" + "c" * 32


async def _link(app: App, channel: Channel, user_id: str, member_id: int) -> None:
    """The chat account (channel, user_id) now uses membership ``member_id`` (as /link does)."""
    async with app.uow() as uow:
        identity = await uow.identities.touch(channel.value, user_id, app.clock.now(), None, "th")
        identity.member_id = member_id
        await uow.commit()


async def test_a_cashier_cannot_sell_to_their_own_membership(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    nok = await make_member(app, "Nok", "081-234-5678", user_id="c1")
    for member in ("081 234 5678", nok.member_code):
        await cashier.say(f"/sale {member} 250")
        assert cashier.text() == t("th", "sale.own_membership")
    assert await sales(app) == []
    assert await ledger(app, nok.id) == []
    assert await audit_rows(app, "sale.recorded") == []


async def test_a_manager_cannot_sell_to_their_own_membership_told_in_english(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    nok = await make_member(app, "Nok", "081-234-5678", user_id="mg", locale="en")
    await manager.say(f"/sale {nok.member_code} 250 receipt=R1")
    assert manager.text() == t("en", "sale.own_membership")
    assert await sales(app) == []


async def test_the_membership_of_the_cashiers_account_is_theirs_on_every_app(app: App) -> None:
    # the member joined on Telegram; the cashier works on LINE from an account linked to it
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, LINE_CASHIER, "cashier", "asoke", channel=Channel.LINE)
    nok = await make_member(app, "Nok", "081-234-5678", user_id="tg-nok")
    await _link(app, Channel.LINE, LINE_CASHIER, nok.id)
    await cashier.say("/sale 0812345678 250")
    assert cashier.text() == t("th", "sale.own_membership")
    assert await sales(app) == []


async def test_a_cashier_still_sells_to_other_members(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    await make_member(app, "Nok", "089-999-0000", user_id="c1")
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await cashier.say("/sale 0812345678 250")
    assert await balance(app, ploy.id) == 10
    assert len(await sales(app)) == 1


async def test_an_owner_may_sell_to_their_own_membership(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner")
    somchai = await make_member(app, "Somchai", "081-234-5678", user_id="o1")
    await owner.say("/sale 0812345678 250")
    assert await balance(app, somchai.id) == 10


async def test_a_manager_cannot_adjust_their_own_points(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    nok = await make_member(app, "Nok", "081-234-5678", user_id="mg", points=10)
    await manager.say("/adjust 081 234 5678 +500 bonus")
    assert manager.text() == t("th", "adjust.own_membership")
    assert await ledger(app, nok.id) == [(10, "welcome")]
    assert await audit_rows(app, "points.adjusted") == []


async def test_an_owner_may_adjust_their_own_points(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    somchai = await make_member(app, "Somchai", "081-234-5678", user_id="o1")
    await owner.say("/adjust 081 234 5678 +50 bonus")
    assert await balance(app, somchai.id) == 50


async def test_an_owner_cannot_approve_a_sale_to_the_cashiers_own_membership(app: App) -> None:
    # the cashier asked for an over-cap sale to a member, then linked their own account to it
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    owner = await staff_chat(app, "o1", "owner")
    nok = await make_member(app, "Nok", "081-234-5678", user_id="tg-nok")
    await cashier.say(f"/sale {nok.member_code} 19000 receipt=R0")
    await cashier.say(f"/sale {nok.member_code} 1500 receipt=BIG")
    await _link(app, Channel.TELEGRAM, "c1", nok.id)
    [approval] = await approvals(app)
    await owner.press(f"apv:y:{approval.id}")
    assert owner.text() == t("th", "approval.own_membership")
    assert (await approvals(app))[0].status == "pending"
    assert [sale.receipt_no for sale in await sales(app)] == ["R0"]
    await owner.press(f"apv:n:{approval.id}")
    assert (await approvals(app))[0].status == "declined"
