"""``/staff`` and ``/staff invites`` of a chain with more staff (or open invites) than one set
of buttons holds: 20 removal or revoke buttons a page and a page button, so that every one has
its button (they stopped at 12 and the rest were reachable only by typing their number)."""

from __future__ import annotations

import re

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.staff_support import ensure_branches, make_staff, staff_chat


def _actions(chat: Chat) -> list[str]:
    return [b.action for r in chat.last for b in r.buttons]


def _ids(chat: Chat, verb: str) -> set[int]:
    pattern = re.compile(rf"stf:{verb}:(\d+)")
    return {int(m.group(1)) for a in _actions(chat) if (m := pattern.fullmatch(a))}


async def test_thirty_cashiers_each_have_a_removal_button_on_one_of_two_pages(app: App) -> None:
    await ensure_branches(app)
    owner = await staff_chat(app, "o1", "owner")
    cashiers = {
        (await make_staff(app, f"c{i}", "cashier", name=f"Cashier {i}")).id for i in range(30)
    }
    await owner.say("/staff")
    first = _ids(owner, "rm")
    assert len(first) == 20
    assert _actions(owner)[-1] == "stf:page:1"
    assert t("th", "pages.staff_page", page=1, pages=2) in owner.text()
    await owner.press("stf:page:1")
    second = _ids(owner, "rm")
    assert _actions(owner)[-1] == "stf:page:0"  # the last page leads back to the first
    assert first | second == cashiers
    assert not first & second
    await owner.press("stf:page:99")  # a stale or forged page opens the nearest that exists
    assert _ids(owner, "rm") == second


async def test_twenty_five_open_invites_each_have_a_revoke_button(app: App) -> None:
    await ensure_branches(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    for _ in range(25):
        await owner.say("/staff invite cashier")
    await owner.say("/staff invites")
    first = _ids(owner, "rv")
    assert len(first) == 20
    assert _actions(owner)[-1] == "stf:ipage:1"
    await owner.press("stf:ipage:1")
    second = _ids(owner, "rv")
    assert len(first | second) == 25
    revoked = min(second)
    await owner.press(f"stf:rv:{revoked}")
    assert owner.text() == t("en", "staff.invite_revoked", id=revoked)
