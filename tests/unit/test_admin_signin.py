"""Signing in to the web console from the chat: links, sessions, cookies, sign-out, and
sessions that end when the staff member is removed or changes role."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import update

from bot.admin.access_log import RedactingAccessLogger
from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.console import IDLE, LINK_THROTTLE, LINK_TTL
from storage.models import Staff
from storage.raw_session import session_of as raw_session
from tests.chat import Chat
from tests.unit.admin_support import (
    Browser,
    ask_link,
    console_client,
    open_link,
    session_of,
    signed_in,
)
from tests.unit.staff_support import audit_rows, staff_chat, staff_of


async def test_a_link_signs_in_once_and_lands_on_the_overview(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    token = await ask_link(owner)
    async with console_client(app) as client:
        # opening the link (or a chat app's preview of it) uses nothing
        assert (await client.get(f"/admin/signin/{token}")).status == 200
        first = await open_link(client, token)
        assert first.status == 303
        assert first.headers["Location"] == "/admin/"  # the token leaves the address bar
        browser = Browser(client, session_of(first))
        assert (await browser.get("/admin/")).status == 200
        again = await open_link(client, token)
        assert again.status == 403
        assert "Set-Cookie" not in again.headers
    assert len(await audit_rows(app, "console.signed_in")) == 1


async def test_a_link_expires_after_ten_minutes(app: App, clock: FrozenClock) -> None:
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke")
    token = await ask_link(manager)
    clock.advance(LINK_TTL + timedelta(seconds=1))
    async with console_client(app) as client:
        assert (await client.get(f"/admin/signin/{token}")).status == 403
        assert (await open_link(client, token)).status == 403


async def test_a_cashier_gets_no_link(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    await cashier.say("/dashboard")
    assert "/admin/signin/" not in cashier.text()
    assert "not" in cashier.text().lower()


async def test_links_are_throttled_per_staff_member(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    for _ in range(LINK_THROTTLE.limit):
        await ask_link(owner)
    await owner.say("/dashboard")
    assert "/admin/signin/" not in owner.text()
    assert "10 minutes" in owner.text()
    other = await staff_chat(app, "o2", "owner")
    await ask_link(other)  # another staff member's links are their own


async def test_the_session_cookie_is_httponly_secure_strict(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        response = await open_link(client, await ask_link(owner))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/admin/" in cookie


async def test_no_secure_flag_on_a_loopback_http_address(app: App) -> None:
    app.settings.public_url = "http://127.0.0.1:8080"
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        response = await open_link(client, await ask_link(owner))
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]


async def test_sign_out_ends_the_session(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        out = await browser.post("/admin/signout", {})
        assert out.status == 303
        assert (await browser.get("/admin/")).status == 401
    assert len(await audit_rows(app, "console.signed_out")) == 1


async def test_an_idle_session_lapses(app: App, clock: FrozenClock) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        clock.advance(IDLE - timedelta(minutes=1))
        assert (await browser.get("/admin/members")).status == 200  # a request restarts it
        clock.advance(IDLE - timedelta(minutes=1))
        assert (await browser.get("/admin/")).status == 200
        clock.advance(IDLE + timedelta(seconds=1))
        assert (await browser.get("/admin/")).status == 401


async def test_removing_a_staff_member_ends_their_session(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke")
    target = await staff_of(app, "m1")
    assert target is not None
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        unused = await ask_link(manager)
        await owner.say(f"/staff remove {target.id}")
        await owner.press(f"stf:rmok:{target.id}")
        assert (await staff_of(app, "m1")) is not None
        assert not (await staff_of(app, "m1")).active  # type: ignore[union-attr]
        assert (await browser.get("/admin/")).status == 401
        assert (await open_link(client, unused)).status == 403


async def test_a_role_change_through_storage_ends_the_session(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        async with app.uow() as uow:  # the path an invite claimed again takes
            await uow.staff.add("telegram", "m1", "m1", "owner", None, app.clock.now())
            await uow.commit()
        assert (await browser.get("/admin/")).status == 401


async def test_a_role_changed_by_any_path_is_refused(app: App) -> None:
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        async with app.uow() as uow:  # a path that forgets to end the sessions
            await raw_session(uow).execute(
                update(Staff).where(Staff.user_id == "m1").values(role="cashier")
            )
            await uow.commit()
        assert (await browser.get("/admin/")).status == 401


async def test_a_forged_post_without_the_form_token_is_refused(app: App) -> None:
    owner: Chat = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        forged = await browser.post("/admin/signout", {}, csrf=False)
        assert forged.status == 403
        wrong = await browser.post("/admin/signout", {"csrf": "x" * 43}, csrf=False)
        assert wrong.status == 403
        assert (await browser.get("/admin/")).status == 200  # still signed in


def test_the_access_log_keeps_no_sign_in_token(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    access = RedactingAccessLogger(logger, "")
    token = "Abc123-secret_token"
    with caplog.at_level(logging.INFO, logger="test.access"):
        for path in (f"/admin/signin/{token}", f"/media/{token}/card.png?x={token}"):
            request = make_mocked_request("GET", path)
            access.log(request, web.Response(status=200), 0.01)
    assert caplog.records
    assert token not in caplog.text
    assert "/admin/signin/…" in caplog.text
