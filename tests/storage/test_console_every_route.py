"""Every route of the web console, as the outside reaches it (over HTTP): no session is a 401
on every page and action; every POST without its session's form token — none, or another
session's — is a 403 that changes nothing; a cashier gets no console at all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.admin import ROUTES
from bot.bootstrap import App
from storage.models import AuditEntry
from storage.raw_session import session_of
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

#: a concrete path for each route's pattern (ids of rows that exist, or not: refused first)
_ARGS = {
    "member_id": "1",
    "segment_id": "1",
    "campaign_id": "1",
    "thread_id": "1",
    "invite_id": "1",
    "staff_id": "2",
    "reward_id": "1",
    "name": "birthday",
    "code": "asoke",
}
_PARAM = re.compile(r"\{([a-z_]+)(?::[^}]*)?\}")


def _path(pattern: str) -> str:
    return "/admin" + _PARAM.sub(lambda m: _ARGS[m.group(1)], pattern)


POSTS = [_path(path) for method, path, _ in ROUTES if method == "POST"]
GETS = [_path(path) for method, path, _ in ROUTES if method == "GET"]


async def _audited(app: App) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(func.count()).select_from(AuditEntry))
        return int(found.scalar_one())


async def _shop(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    await make_member(app, "Ploy", "0810000001", user_id="601", home_branch_code="asoke")


async def test_without_a_session_every_route_is_a_401(app: App) -> None:
    await _shop(app)
    async with console_client(app) as client:
        for path in GETS:
            assert (await client.get(path, allow_redirects=False)).status == 401, path
        for path in POSTS:
            answer = await client.post(path, data={"confirm": "yes"}, allow_redirects=False)
            assert answer.status == 401, path


@pytest.mark.parametrize("token", ["none", "another-session"])
async def test_every_post_without_its_sessions_form_token_is_a_403_that_changes_nothing(
    app: App, token: str
) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        other = await signed_in(client, owner)  # a second browser of the same owner
        before = await _audited(app)
        for path in POSTS:
            form = {"confirm": "yes", "code": "siam", "name_th": "สยาม", "rule": "visits >= 0"}
            if token == "another-session":
                form["csrf"] = other.csrf
            answer = await browser.post(path, form, csrf=False)
            assert answer.status == 403, path
        assert await _audited(app) == before
        assert (await browser.get("/admin/")).status == 200  # the session itself goes on


async def test_a_cashier_has_no_console(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    await cashier.say("/dashboard")
    assert "/admin/signin/" not in cashier.text()
