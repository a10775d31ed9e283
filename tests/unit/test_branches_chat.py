"""/branches: the owner adds, renames, closes and reopens branches in the chat; a closed branch
keeps its history and is no longer offered anywhere."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Branch, Sale
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    member_chat,
    staff_chat,
    staff_of,
)


async def _add(owner: Chat, code: str, name_th: str, name_en: str | None) -> None:
    await owner.say("/branches")
    await owner.press("brn:add")
    await owner.say(code)
    await owner.say(name_th)
    if name_en is None:
        await owner.press("brnv:skip")
    else:
        await owner.say(name_en)


async def _branches(app: App) -> dict[str, tuple[str, str, bool]]:
    return {b.code: (b.name_th, b.name_en, b.active) for b in await rows(app, Branch)}


async def test_the_owner_adds_branches_by_typed_steps(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/branches")
    assert t("th", "branches.none") in owner.text()
    await _add(owner, "Asoke", "อโศก", "Asoke")
    assert t("th", "branches.added", code="asoke", name_th="อโศก", name_en="Asoke") in owner.text()
    await _add(owner, "siam-2", "สยาม 2", None)
    assert await _branches(app) == {
        "asoke": ("อโศก", "Asoke", True),
        "siam-2": ("สยาม 2", "สยาม 2", True),
    }
    assert "asoke — อโศก / Asoke" in owner.text()  # the list after saving
    [audit, _] = await audit_rows(app, "branch.added")
    assert audit.actor.startswith("staff:")
    assert audit.details["after"] == {
        "code": "asoke",
        "name_th": "อโศก",
        "name_en": "Asoke",
        "open": True,
    }


async def test_a_bad_or_taken_code_is_explained_and_asked_again(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await _add(owner, "asoke", "อโศก", "Asoke")
    await owner.press("brn:add")
    await owner.say("อโศก")
    assert t("en", "branches.bad_code", low=2, high=20) in owner.text()
    await owner.say("ASOKE")
    assert t("en", "branches.duplicate", code="asoke") in owner.text()
    await owner.say("asoke-2")  # still in the same conversation: asked again, not ended
    await owner.say("")
    assert t("en", "branches.bad_name", max=100) in owner.text()
    await owner.press("brnv:cancel")
    assert list(await _branches(app)) == ["asoke"]
    assert len(await audit_rows(app, "branch.added")) == 1


async def test_rename_changes_the_names_and_audits_before_and_after(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await _add(owner, "asoke", "อโศก", "Asoke")
    await owner.press("brn:show:asoke")
    await owner.press("brn:ren:asoke")
    await owner.say("อโศก มนตรี")
    await owner.say("Asoke Montri")
    assert await _branches(app) == {"asoke": ("อโศก มนตรี", "Asoke Montri", True)}
    [audit] = await audit_rows(app, "branch.renamed")
    assert audit.details["before"] == {"name_th": "อโศก", "name_en": "Asoke"}
    assert audit.details["after"] == {"name_th": "อโศก มนตรี", "name_en": "Asoke Montri"}


async def test_a_closed_branch_keeps_its_sales_and_leaves_every_choice(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await _add(owner, "asoke", "อโศก", "Asoke")
    await _add(owner, "ratchada", "รัชดา", "Ratchada")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R1")
    assert len(await rows(app, Sale)) == 1

    await owner.press("brn:close:asoke")
    assert t("th", "branches.closed", code="asoke") in owner.text()
    assert len(await rows(app, Sale)) == 1  # the history stays
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R2")
    assert cashier.text() == t("th", "branches.closed_sale", branch="asoke")
    await owner.say(f"/sale {ploy.member_code} 100 receipt=R3 branch=asoke")
    assert owner.text() == t("th", "branches.closed_sale", branch="asoke")
    await owner.say(f"/sale {ploy.member_code} 100 receipt=R4")  # the one open branch
    assert len(await rows(app, Sale)) == 2
    await owner.say("/staff invite cashier asoke")
    assert owner.text() == t("th", "branches.closed_choice", code="asoke")

    newcomer = Chat(app, user_id="m2")
    await newcomer.say("/start")
    await newcomer.press("su:join")
    await newcomer.press("su:mkt:no")
    for answer in ("Nok", "089-111-2222", "01/05/2530"):
        await newcomer.say(answer)
    await newcomer.press("su:g:female")
    offered = [b.action for r in newcomer.last for b in r.buttons]
    assert [a for a in offered if a.startswith("su:b:") and a != "su:b:skip"] == [
        f"su:b:{(await rows(app, Branch, Branch.code == 'ratchada'))[0].id}"
    ]

    await owner.press("brn:open:asoke")
    assert t("th", "branches.reopened", code="asoke") in owner.text()
    await cashier.say(f"/sale {ploy.member_code} 100 receipt=R5")
    assert len(await rows(app, Sale)) == 3
    assert len(await audit_rows(app, "branch.closed")) == 1
    assert len(await audit_rows(app, "branch.reopened")) == 1


async def test_branches_are_the_owners_alone(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager")
    await manager.say("/branches")
    assert manager.text() == t("th", "error.not_allowed")
    await manager.press("brn:add")
    assert manager.text() == t("th", "error.not_allowed")
    customer, _ = await member_chat(app, "Ploy", "081-234-5678", user_id="u9")
    await customer.press("brn:close:asoke")
    assert await _branches(app) == {}


async def test_settings_leads_to_the_branches(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press_label(t("th", "branches.menu"))
    assert t("th", "branches.none") in owner.text()


async def test_segments_suggest_open_branches_only_yet_still_read_a_closed_one(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await _add(owner, "asoke", "อโศก", "Asoke")
    await _add(owner, "ratchada", "รัชดา", "Ratchada")
    await owner.press("brn:close:asoke")
    await owner.say("/segment new typo branch = asoka")
    assert owner.text() == t("en", "segment.unknown_branch", word="asoka", position=10)
    await owner.say("/segment new old-asoke branch = asoke")  # its history stays selectable
    assert "old-asoke" in owner.text()
    assert t("en", "segment.unknown_branch", word="asoke", position=10) not in owner.text()


async def test_a_campaign_offer_cannot_be_limited_to_a_closed_branch(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await _add(owner, "asoke", "อโศก", "Asoke")
    await _add(owner, "ratchada", "รัชดา", "Ratchada")
    await owner.press("brn:close:asoke")
    await owner.say("/campaign new Tea time")
    await owner.say("points >= 0")
    await owner.say("Hi {name}")
    await owner.press("cmpw:offer:buy_x_get_y")
    for answer in ("1-1", "-", "7", "-"):
        await owner.say(answer)
    await owner.say("asoke")
    assert t("en", "branches.closed_choice", code="asoke") in owner.text()
    await owner.say("ratchada")
    assert t("en", "campaign.ask_offer_cost") in owner.text()


async def test_a_cashier_of_a_closed_branch_cannot_redeem_there(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await _add(owner, "asoke", "อโศก", "Asoke")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app, "Ploy")
    coupon = await make_coupon(app, member.id)
    await owner.press("brn:close:asoke")
    await cashier.say(f"/redeem {coupon.code}")
    assert cashier.text() == t("th", "branches.closed_redeem", branch="asoke")
    [unused] = await coupon_rows(app)
    assert unused.redeemed_at is None
    await owner.press("brn:open:asoke")
    await cashier.say(f"/redeem {coupon.code}")
    [used] = await coupon_rows(app)
    assert used.redeemed_at is not None


async def test_closing_a_branch_revokes_the_open_invites_to_it(app: App) -> None:
    """A code handed out for Asoke made a cashier of a branch closed meanwhile (its sales and
    redemptions then refused); invites to other branches and to every branch still work."""
    await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner")
    asoke_code = (await owner.say("/staff invite cashier asoke"))[-1].text
    ratchada_code = (await owner.say("/staff invite cashier ratchada"))[-1].text
    await owner.press("brn:close:asoke")
    late = Chat(app, user_id="c1", language_code="en")
    await late.say(asoke_code)
    assert late.text() == t("en", "staff.claim_invalid")
    assert await staff_of(app, "c1") is None
    [revoked] = await audit_rows(app, "staff.invite_revoked")
    assert revoked.details["reason"] == "branch_closed"
    await owner.press("brn:open:asoke")  # reopening does not bring the code back
    await late.say(asoke_code)
    assert await staff_of(app, "c1") is None
    other = Chat(app, user_id="c2")
    await other.say(ratchada_code)
    assert await staff_of(app, "c2") is not None
