"""``/staff``: listing, inviting and removing staff, with roles and branch scope re-checked."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.wire import payload_to_replies
from bot.i18n import t
from tests.chat import Chat
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_staff,
    outbox_rows,
    staff_chat,
    staff_of,
    staff_row,
)

NOT_ALLOWED = t("th", "error.not_allowed")


def actions(chat: Chat) -> list[str]:
    return [b.action for r in chat.last for b in r.buttons]


async def test_the_owner_sees_every_active_staff_member_with_role_branch_and_since(
    app: App,
) -> None:
    await ensure_branches(app)
    owner = await staff_chat(app, "o1", "owner", name="Somchai")
    await make_staff(app, "c1", "cashier", "asoke", name="Nok")
    await make_staff(app, "c2", "cashier", "ratchada", name="Fah")
    await owner.say("/staff")
    text = owner.text()
    assert "Nok — แคชเชียร์ · อโศก · ตั้งแต่ 3 มี.ค. 2569" in text
    assert "Fah — แคชเชียร์ · รัชดา" in text
    assert "Somchai — เจ้าของร้าน · ทุกสาขา" in text


async def test_the_owner_gets_a_remove_button_for_everyone_but_themselves(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    nok = await make_staff(app, "c1", "cashier")
    await owner.say("/staff")
    assert actions(owner) == [f"stf:rm:{nok.id}"]


async def test_removal_asks_first_then_deactivates_and_audits(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    nok = await make_staff(app, "c1", "cashier", name="Nok")
    await owner.press(f"stf:rm:{nok.id}")
    assert (await staff_row(app, nok.id)).active
    assert f"stf:rmok:{nok.id}" in actions(owner)
    await owner.press(f"stf:rmok:{nok.id}")
    assert owner.text() == t("th", "staff.removed", name="Nok")
    assert not (await staff_row(app, nok.id)).active
    [entry] = await audit_rows(app, "staff.removed")
    assert entry.details["staff_id"] == nok.id
    assert entry.details["role"] == "cashier"


async def test_keep_removes_nobody(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    nok = await make_staff(app, "c1", "cashier")
    await owner.press(f"stf:rm:{nok.id}")
    await owner.press_label(t("th", "staff.remove_no"))
    assert (await staff_row(app, nok.id)).active


async def test_a_removed_cashier_is_refused_on_their_very_next_staff_command(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/staffmenu")
    assert cashier.text() != NOT_ALLOWED
    staff = await staff_of(app, "c1")
    assert staff is not None
    await owner.press(f"stf:rmok:{staff.id}")
    await cashier.say("/staffmenu")
    assert cashier.text() == NOT_ALLOWED


async def test_the_removed_person_is_told_and_their_menu_reset_through_the_outbox(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/help")  # creates the chat identity with its language hint
    staff = await staff_of(app, "c1")
    assert staff is not None
    await owner.press(f"stf:rmok:{staff.id}")
    [row] = await outbox_rows(app)
    assert (row.channel, row.user_id) == ("telegram", "c1")
    [reply] = payload_to_replies(row.payload)
    assert reply.text == t("en", "staff.you_were_removed")
    assert reply.meta == {"menu": "customer", "locale": "en"}


async def test_a_double_tapped_remove_removes_and_audits_once(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    nok = await make_staff(app, "c1", "cashier")
    await owner.press(f"stf:rmok:{nok.id}")
    await owner.press(f"stf:rmok:{nok.id}")
    assert owner.text() == t("th", "staff.no_such_staff", id=nok.id)
    assert len(await audit_rows(app, "staff.removed")) == 1
    assert len(await outbox_rows(app)) == 1


async def test_the_last_owner_cannot_be_removed(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    me = await staff_of(app, "o1")
    assert me is not None
    await owner.say(f"/staff remove {me.id}")
    assert owner.text() == t("th", "staff.last_owner")
    await owner.press(f"stf:rmok:{me.id}")
    assert owner.text() == t("th", "staff.last_owner")
    assert (await staff_row(app, me.id)).active


async def test_an_owner_may_remove_another_owner_and_then_not_the_last(app: App) -> None:
    first = await staff_chat(app, "o1", "owner")
    second = await staff_chat(app, "o2", "owner")
    other = await staff_of(app, "o2")
    me = await staff_of(app, "o1")
    assert other is not None
    assert me is not None
    await first.press(f"stf:rmok:{other.id}")
    assert not (await staff_row(app, other.id)).active
    await first.press(f"stf:rmok:{me.id}")
    assert first.text() == t("th", "staff.last_owner")
    await second.say("/staff")
    assert second.text() == NOT_ALLOWED


async def test_an_owner_removing_themselves_gets_the_customer_menu_back(app: App) -> None:
    first = await staff_chat(app, "o1", "owner")
    await make_staff(app, "o2", "owner")
    me = await staff_of(app, "o1")
    assert me is not None
    replies = await first.press(f"stf:rmok:{me.id}")
    assert replies[0].meta["menu"] == "customer"
    assert await outbox_rows(app) == []


async def test_a_manager_sees_and_removes_only_cashiers_of_their_branch(app: App) -> None:
    await ensure_branches(app, ["asoke", "ratchada"])
    manager = await staff_chat(app, "m1", "manager", "asoke", name="Mana")
    here = await make_staff(app, "c1", "cashier", "asoke", name="Nok")
    there = await make_staff(app, "c2", "cashier", "ratchada", name="Fah")
    await make_staff(app, "o1", "owner", name="Boss")
    await manager.say("/staff")
    assert "Nok" in manager.text()
    assert "Fah" not in manager.text()
    assert "Boss" not in manager.text()
    assert actions(manager) == [f"stf:rm:{here.id}"]
    await manager.press(f"stf:rmok:{there.id}")
    assert manager.text() == NOT_ALLOWED
    assert (await staff_row(app, there.id)).active
    await manager.press(f"stf:rmok:{here.id}")
    assert not (await staff_row(app, here.id)).active


async def test_a_manager_cannot_remove_another_manager(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager")
    peer = await make_staff(app, "m2", "manager")
    await manager.press(f"stf:rmok:{peer.id}")
    assert manager.text() == NOT_ALLOWED
    assert (await staff_row(app, peer.id)).active


async def test_a_cashier_cannot_list_staff(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/staff")
    assert cashier.text() == NOT_ALLOWED


async def test_forged_remove_buttons_from_a_customer_and_a_cashier_are_refused(
    app: App,
) -> None:
    owner = await make_staff(app, "o1", "owner")
    await make_staff(app, "o2", "owner")
    customer = Chat(app, user_id="stranger")
    cashier = await staff_chat(app, "c1", "cashier")
    for chat in (customer, cashier):
        for forged in (f"stf:rm:{owner.id}", f"stf:rmok:{owner.id}", "stf:keep"):
            await chat.press(forged)
            assert chat.text() == NOT_ALLOWED, forged
    assert (await staff_row(app, owner.id)).active
    assert await audit_rows(app, "staff.removed") == []


async def test_a_customer_cannot_run_staff_commands(app: App) -> None:
    customer = Chat(app, user_id="stranger")
    for command in ("/staff", "/staff invite owner", "/staffmenu", "/staff remove 1"):
        await customer.say(command)
        assert customer.text() == NOT_ALLOWED, command


async def test_the_owner_invites_from_the_bot_with_a_forwardable_claim_line(app: App) -> None:
    await ensure_branches(app, ["asoke"])
    owner = await staff_chat(app, "o1", "owner")
    replies = await owner.say("/staff invite manager asoke")
    claim_line = replies[-1].text
    assert claim_line.startswith("/claim ")
    newcomer = Chat(app, user_id="m9")
    await newcomer.say(claim_line)
    staff = await staff_of(app, "m9")
    assert staff is not None
    assert staff.role == "manager"
    [entry] = await audit_rows(app, "staff.invited")
    assert entry.actor.startswith("staff:")
    assert entry.channel == "telegram"


async def test_a_manager_invites_cashiers_for_their_own_branch_only(app: App) -> None:
    branches = await ensure_branches(app, ["asoke", "ratchada"])
    manager = await staff_chat(app, "m1", "manager", "asoke")
    replies = await manager.say("/staff invite cashier")
    await Chat(app, user_id="c9").say(replies[-1].text)
    staff = await staff_of(app, "c9")
    assert staff is not None
    assert staff.branch_id == branches["asoke"]
    for refused in (
        "/staff invite cashier ratchada",
        "/staff invite manager",
        "/staff invite owner",
    ):
        await manager.say(refused)
        assert manager.text() == NOT_ALLOWED, refused
    assert len(await audit_rows(app, "staff.invited")) == 1


async def test_bot_invites_refuse_an_unknown_role_or_branch(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/staff invite boss")
    assert owner.text() == t("th", "error.unknown_role", role="boss")
    await owner.say("/staff invite cashier nowhere")
    assert owner.text() == t("th", "error.unknown_branch", code="nowhere")
    assert await audit_rows(app, "staff.invited") == []


async def test_an_unknown_staff_subcommand_shows_the_usage(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/staff fire everyone")
    assert owner.text() == t("th", "staff.usage")
