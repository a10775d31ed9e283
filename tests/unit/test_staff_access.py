"""Staff access ends when the person is removed (issue 15, item 6): the invites they made stop
working, ``/staff invites`` lists the open ones with who made them and the owner revokes any,
two owners removing each other at the same instant leave the shop one owner, and messages
queued for someone removed are not sent to them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from tests.chat import Chat
from tests.unit.sales_support import approvals
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    make_staff,
    outbox_rows,
    staff_chat,
    staff_of,
    staff_row,
)
from tests.unit.test_staff_claim import cli_code

NOT_ALLOWED = t("en", "error.not_allowed")
INVALID = t("en", "staff.claim_invalid")


async def invite(chat: Chat, role: str = "cashier") -> str:
    """Make an invite in the bot; the code is the ready-to-forward last message."""
    await chat.say(f"/staff invite {role}")
    return chat.last[-1].text.removeprefix("/claim ")


async def test_invites_made_by_a_removed_manager_stop_working(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", language_code="en", name="Nok")
    code = await invite(manager)
    nok = await staff_of(app, "m1")
    assert nok is not None
    await owner.press(f"stf:rmok:{nok.id}")
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say(f"/claim {code}")
    assert newcomer.text() == INVALID
    assert await staff_of(app, "n1") is None
    [revoked] = await audit_rows(app, "staff.invite_revoked")
    assert revoked.details["reason"] == "inviter_removed"


async def test_the_owner_lists_open_invites_with_who_made_them(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", language_code="en", name="Nok")
    used = await cli_code(app)
    await Chat(app, user_id="n1").say(f"/claim {used}")
    await cli_code(app, "manager")
    await invite(manager)
    clock.advance(timedelta(days=1))
    await owner.say("/staff invites")
    lines = owner.text().splitlines()
    assert lines[0] == t("en", "staff.invites_title", count=2)
    assert "manager · all branches · by the server command line" in lines[1]
    assert "cashier · all branches · by Nok" in lines[2]
    assert len([b for r in owner.last for b in r.buttons]) == 2
    await manager.say("/staff invites")  # a manager sees only their own
    assert manager.text().splitlines()[0] == t("en", "staff.invites_title", count=1)


async def test_the_owner_revokes_any_invite_and_its_code_stops_working(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", language_code="en")
    code = await invite(manager)
    await owner.say("/staff invites")
    [button] = [b for r in owner.last for b in r.buttons]
    await owner.press(button.action)
    assert owner.text().startswith("Invite #")
    await owner.say("/staff invites")
    assert owner.text() == t("en", "staff.invites_none")
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say(f"/claim {code}")
    assert newcomer.text() == INVALID
    assert len(await audit_rows(app, "staff.invite_revoked")) == 1


async def test_a_manager_cannot_revoke_someone_elses_invite(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    other = await staff_chat(app, "m2", "manager", language_code="en")
    await invite(owner)
    await owner.say("/staff invites")
    [button] = [b for r in owner.last for b in r.buttons]
    await other.press(button.action)
    assert other.text() == NOT_ALLOWED
    await owner.say("/staff invites")
    assert owner.text().splitlines()[0] == t("en", "staff.invites_title", count=1)


async def test_a_bot_invite_expires_after_seven_days(app: App, clock: FrozenClock) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    code = await invite(owner)
    clock.advance(timedelta(days=7))
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say(f"/claim {code}")
    assert newcomer.text() == INVALID


async def test_two_owners_removing_each_other_at_once_leave_one_owner(app: App) -> None:
    first = await make_staff(app, "o1", "owner")
    second = await make_staff(app, "o2", "owner")
    await asyncio.gather(
        Chat(app, user_id="o1").press(f"stf:rmok:{second.id}"),
        Chat(app, user_id="o2").press(f"stf:rmok:{first.id}"),
    )
    active = [(await staff_row(app, s.id)).active for s in (first, second)]
    assert sorted(active) == [False, True]


async def test_an_invite_from_someone_removed_earlier_is_refused_at_the_claim(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager", language_code="en")
    code = await invite(manager)
    nok = await staff_of(app, "m1")
    assert nok is not None
    async with app.uow() as uow:  # removed before removals revoked invites (an older version)
        row = await uow.staff.get(nok.id)
        assert row is not None
        row.active = False
        await uow.commit()
    newcomer = Chat(app, user_id="n1", language_code="en")
    await newcomer.say(f"/claim {code}")
    assert newcomer.text() == INVALID
    assert await staff_of(app, "n1") is None


async def test_a_cashier_removed_before_an_approvals_outcome_is_sent_does_not_get_it(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", name="Nok")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = await make_member(app, user_id="m1", locale="en")
    await cashier.say(f"/sale {ploy.member_code} 19000 receipt=R0")
    await cashier.say(f"/sale {ploy.member_code} 1500 receipt=BIG")  # over the daily cap
    [approval] = await approvals(app)
    await owner.press(f"apv:y:{approval.id}")  # the outcome, naming Ploy, queued for Nok
    nok = await staff_of(app, "c1")
    assert nok is not None
    await owner.press(f"stf:rmok:{nok.id}")
    [told] = await outbox_rows(app, f"approval:{approval.id}:done")
    assert told.status == "cancelled"
    [removed] = await outbox_rows(app, f"staff:{nok.id}:removed")
    assert removed.status == "pending"
