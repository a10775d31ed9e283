"""The web console's pages: security headers everywhere, branch scope, member search and
keyset pagination, a member's page."""

from __future__ import annotations

import re

import pytest

from bot.admin.security import HEADERS
from bot.bootstrap import App
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

_MEMBER_LINK = re.compile(r'href="/admin/members/(\d+)"')
_NEXT = re.compile(r'name="after" value="(\d+)"|members\?after=(\d+)')


def _assert_headers(response: object, path: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, name)  # type: ignore[attr-defined]
    csp = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


async def test_every_page_carries_the_security_headers(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    member = await make_member(app, "Ploy", "081-234-5678")
    async with console_client(app) as client:
        anonymous = await client.get("/admin/")
        _assert_headers(anonymous, "/admin/ signed out")
        assert anonymous.status == 401
        for path in (
            "/admin/signin/nonsense",
            "/admin/signedout",
            "/admin/nowhere",
            "/admin/font/400.ttf",
        ):
            _assert_headers(await client.get(path), path)
        browser = await signed_in(client, owner)
        for path in (
            "/admin/",
            "/admin/members",
            f"/admin/members/{member.id}",
            "/admin/members/999999",
            "/admin/static/admin.css",
        ):
            response = await browser.get(path)
            _assert_headers(response, path)
        search = await browser.post("/admin/members", {"q": "0812345678"})
        _assert_headers(search, "search")
        _assert_headers(await browser.post("/admin/signout", {}), "sign-out")
    healthz = await _plain_get(app, "/healthz")
    assert "Content-Security-Policy" not in healthz  # the webhooks' app is untouched


async def _plain_get(app: App, path: str) -> dict[str, str]:
    async with console_client(app) as client:
        return dict((await client.get(path)).headers)


async def test_no_inline_script_and_no_personal_data_in_titles(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    member = await make_member(app, "Ploy Chaiyo", "081-234-5678")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get(f"/admin/members/{member.id}")).text()
    assert "<script" not in page
    assert " style=" not in page
    title = re.search(r"<title>(.*)</title>", page)
    assert title is not None
    assert "Ploy" not in title.group(1)
    assert "081" not in title.group(1)
    assert "Ploy Chaiyo" in page  # the body shows the member


async def test_a_manager_sees_only_their_branch(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    ours = await make_member(app, "Ploy", "081-111-1111", home_branch_code="asoke")
    theirs = await make_member(app, "Nok", "081-222-2222", home_branch_code="ratchada")
    await _sale(app, theirs.id, "ratchada")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        assert (await browser.get(f"/admin/members/{ours.id}")).status == 200
        hidden = await browser.get(f"/admin/members/{theirs.id}")
        assert hidden.status == 404
        assert "Nok" not in await hidden.text()
        overview = await (await browser.get("/admin/")).text()
        assert "Asoke" in overview
        assert "Ratchada" not in overview
        assert 'id="members-total">1<' in overview
        listing = await (await browser.get("/admin/members")).text()
        assert "Ploy" in listing
        assert "Nok" not in listing
        found = await (await browser.post("/admin/members", {"q": "081-222-2222"})).text()
        assert "Nok" not in found


async def test_an_owner_sees_every_branch(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    theirs = await make_member(app, "Nok", "081-222-2222", home_branch_code="ratchada")
    await _sale(app, theirs.id, "ratchada")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        assert (await browser.get(f"/admin/members/{theirs.id}")).status == 200
        overview = await (await browser.get("/admin/")).text()
    assert "Ratchada" in overview
    assert "The whole shop" in overview


async def _sale(app: App, member_id: int, branch_code: str) -> None:
    from decimal import Decimal

    from storage.models import Sale
    from storage.raw_session import session_of

    async with app.uow() as uow:
        branch = await uow.branches.by_code(branch_code)
        assert branch is not None
        session_of(uow).add(
            Sale(
                receipt_no=f"r-{member_id}",
                member_id=member_id,
                branch_id=branch.id,
                amount=Decimal("250.00"),
                occurred_at=app.clock.now(),
            )
        )
        await uow.commit()


async def test_search_by_a_phone_typed_in_another_format(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    ploy = await make_member(app, "Ploy", "0812345678")
    await make_member(app, "Nok", "0898765432")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for typed in ("+66 81 234 5678", "081-234-5678", "๐๘๑๒๓๔๕๖๗๘"):
            page = await (await browser.post("/admin/members", {"q": typed})).text()
            assert _MEMBER_LINK.findall(page) == [str(ploy.id)], typed
        by_code = await (await browser.post("/admin/members", {"q": ploy.member_code})).text()
        assert _MEMBER_LINK.findall(by_code) == [str(ploy.id)]
        by_name = await (await browser.post("/admin/members", {"q": "noK"})).text()
        assert "Nok" in by_name
        assert "Ploy" not in by_name


async def test_a_search_needs_the_form_token(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        forged = await browser.post("/admin/members", {"q": "Ploy"}, csrf=False)
    assert forged.status == 403


async def test_keyset_pages_show_every_member_once(app: App) -> None:
    from bot.admin import pages

    owner = await staff_chat(app, "o1", "owner")
    made = [await make_member(app, f"Member {i}", None) for i in range(7)]
    original = pages.PAGE_SIZE
    pages.PAGE_SIZE = 3
    try:
        async with console_client(app) as client:
            browser = await signed_in(client, owner)
            listed = await _walk(browser, "/admin/members", None)
            searched = await _walk(browser, "/admin/members", "member")
    finally:
        pages.PAGE_SIZE = original
    expected = sorted(m.id for m in made)
    assert listed == expected
    assert searched == expected


async def _walk(browser: Browser, path: str, query: str | None) -> list[int]:
    """Every member id across the pages, following "next page" to the end."""
    seen: list[int] = []
    after: str | None = None
    for _ in range(10):
        if query is None:
            response = await browser.get(path + (f"?after={after}" if after else ""))
        else:
            response = await browser.post(path, {"q": query, "after": after or ""})
        page = await response.text()
        seen += [int(i) for i in _MEMBER_LINK.findall(page)]
        nxt = _NEXT.search(page)
        if nxt is None:
            return seen
        after = nxt.group(1) or nxt.group(2)
    raise AssertionError("pagination did not end")


async def test_a_members_page_shows_points_tags_and_notes_in_thai(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    ploy = await make_member(app, "Ploy", "081-234-5678", points=120)
    async with app.uow() as uow:
        await uow.people.add_tags(ploy.id, ["vip"], app.clock.now())
        await uow.people.add_note(ploy.id, None, "likes less sugar", app.clock.now())
        row = await uow.members.get(ploy.id)
        assert row is not None
        row.tier = "silver"
        await uow.commit()
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get(f"/admin/members/{ploy.id}")).text()
    assert 'id="points">120<' in page
    assert "+120" in page  # the ledger's welcome entry
    assert "ซิลเวอร์" in page  # the tier by its Thai display name, not the stored key
    assert "vip" in page
    assert "likes less sugar" in page
    assert "081-234-5678" in page
    assert "แต้ม" in page  # the viewer's language


async def test_an_unexpected_failure_is_a_500_with_the_headers_and_no_traceback(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)

        async def broken(*_: object) -> None:
            raise RuntimeError("a traceback line nobody outside may read")

        monkeypatch.setattr("bot.admin.security.resume", broken)
        answer = await browser.get("/admin/")
        assert answer.status == 500
        _assert_headers(answer, "a failing page")
        assert "traceback line" not in await answer.text()
