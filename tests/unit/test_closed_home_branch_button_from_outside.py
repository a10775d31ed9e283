"""A newcomer at the sign-up's last question (which branch do you visit most?) presses a branch
the owner closed after the question was sent. Nothing is stored for it and the question is
asked again with the open branches only; the answer must say why, not "please choose one of the
buttons" to someone who just pressed one."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.staff_support import ensure_branches, staff_chat


async def _at_the_branch_question(app: App, locale: str) -> tuple[Chat, Chat, dict[str, int]]:
    ids = await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    newcomer = Chat(app, user_id="n1", language_code=locale)
    await newcomer.say("/start")
    await newcomer.press("su:join")
    await newcomer.press("su:mkt:no")
    for answer in ("Nok", "089-111-2222", "01/05/1990"):
        await newcomer.say(answer)
    await newcomer.press("su:g:female")
    assert f"su:b:{ids['asoke']}" in [b.action for r in newcomer.last for b in r.buttons]
    return owner, newcomer, ids


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_a_branch_closed_after_the_question_is_refused_with_a_true_reason(
    app: App, locale: str
) -> None:
    owner, newcomer, ids = await _at_the_branch_question(app, locale)
    await owner.press("brn:close:asoke")
    await newcomer.press(f"su:b:{ids['asoke']}")
    assert t(locale, "signup.use_buttons") not in newcomer.text(), newcomer.text()
    offered = [b.action for r in newcomer.last for b in r.buttons]
    assert f"su:b:{ids['ratchada']}" in offered
    assert f"su:b:{ids['asoke']}" not in offered


async def test_the_re_asked_question_offers_the_open_branches_and_joins_with_one(
    app: App,
) -> None:
    owner, newcomer, ids = await _at_the_branch_question(app, "en")
    await owner.press("brn:close:asoke")
    await newcomer.press(f"su:b:{ids['asoke']}")
    await newcomer.press(f"su:b:{ids['ratchada']}")
    async with app.uow() as uow:
        account = await uow.identities.get("telegram", "n1")
        assert account is not None
        assert account.member_id is not None
        member = await uow.members.get(account.member_id)
    assert member is not None
    assert member.home_branch_id == ids["ratchada"]
