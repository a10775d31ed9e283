"""The web console as a careless or hostile person on the web reaches it, over HTTP: form bodies
no browser of ours would send (bytes that are not UTF-8, a charset nobody knows, a broken
multipart body), a session cookie planted before sign-in, one link pressed in several tabs at
once, a session kept busy past its twelve hours, paths climbing out of the static folder,
HEAD on a page, markup typed everywhere a person's text reaches a page, a 2 MB form, a huge
uplift typed on a campaign's preview, and what a branch manager's campaign preview shows of
the other branches' members."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import quote

import pytest
from aiohttp import ClientResponse
from yarl import URL

from bot.admin.security import COOKIE
from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.console import IDLE, MAX_AGE
from tests.unit.admin_support import (
    Browser,
    Client,
    ask_link,
    console_client,
    session_of,
    signed_in,
)
from tests.unit.inbox_support import add_sale, threads
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    member_chat,
    staff_chat,
)

_URLENCODED = "application/x-www-form-urlencoded"
_BOUNDARY = "b0undary"


def _multipart(name: str, value: bytes, part_type: str = "") -> bytes:
    head = f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'
    if part_type:
        head += f"Content-Type: {part_type}\r\n"
    return head.encode() + b"\r\n" + value + f"\r\n--{_BOUNDARY}--\r\n".encode()


#: (content type, body with a field ``{field}``): what a broken client or a fuzzer sends
MALFORMED = {
    "latin-1 bytes, no charset": (_URLENCODED, b"{field}=caf\xe9"),
    "a charset nobody knows": (f"{_URLENCODED}; charset=bogus", b"{field}=abc"),
    "multipart, latin-1 bytes": (
        f"multipart/form-data; boundary={_BOUNDARY}",
        _multipart("{field}", b"caf\xe9"),
    ),
    "multipart, unknown charset": (
        f"multipart/form-data; boundary={_BOUNDARY}",
        _multipart("{field}", b"abc", "text/plain; charset=bogus"),
    ),
    "multipart without its boundary": (f"multipart/form-data; boundary={_BOUNDARY}", b"junk"),
}


async def _post_raw(
    client: Client, path: str, kind: str, field: str, headers: dict[str, str] | None = None
) -> ClientResponse:
    content_type, body = MALFORMED[kind]
    return await client.post(
        path,
        data=body.replace(b"{field}", field.encode()),
        headers={**(headers or {}), "Content-Type": content_type},
        allow_redirects=False,
    )


@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_a_malformed_form_body_is_a_clear_refusal_not_a_500(app: App, kind: str) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    member = await make_member(app, "Ploy", "0812345678")
    async with console_client(app) as client:
        # the sign-in needs no session: anyone on the web can send this
        public = await _post_raw(client, "/admin/signin", kind, "token")
        browser = await signed_in(client, owner)
        signed = await _post_raw(client, "/admin/members", kind, "q", browser.headers)
        note = f"/admin/members/{member.id}/notes"
        noted = await _post_raw(client, note, kind, "note", browser.headers)
        for answer in (public, signed, noted):
            assert 400 <= answer.status < 500, (answer.status, await answer.text())
            assert "Content-Security-Policy" in answer.headers
            assert answer.headers["Cache-Control"] == "no-store, private"
        # the shop's language for anyone, the owner's own once signed in
        assert "อ่านข้อมูลในแบบฟอร์มนี้ไม่ได้" in await public.text()
        assert "could not be read" in await signed.text()
        assert (await browser.get("/admin/")).status == 200  # the session itself goes on
    assert await audit_rows(app, "member.noted") == []


async def test_a_cookie_planted_before_sign_in_is_never_the_session(app: App) -> None:
    """Session fixation: whatever cookie the browser carried, signing in makes a new id."""
    owner = await staff_chat(app, "o1", "owner")
    planted = "planted-by-someone-else"
    async with console_client(app) as client:
        token = await ask_link(owner)
        await client.get(f"/admin/signin/{token}", headers={"Cookie": f"{COOKIE}={planted}"})
        answer = await client.post(
            "/admin/signin",
            data={"token": token},
            headers={"Cookie": f"{COOKIE}={planted}"},
            allow_redirects=False,
        )
        assert answer.status == 303
        assert session_of(answer) != planted
        assert (await Browser(client, planted).get("/admin/")).status == 401
        assert (await Browser(client, session_of(answer)).get("/admin/")).status == 200


async def test_one_link_pressed_in_five_tabs_at_once_signs_in_once(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        token = await ask_link(owner)
        answers = await asyncio.gather(
            *(
                client.post("/admin/signin", data={"token": token}, allow_redirects=False)
                for _ in range(5)
            )
        )
        statuses = sorted(answer.status for answer in answers)
        assert statuses == [303, 403, 403, 403, 403]
        assert [a for a in answers if "Set-Cookie" in a.headers and a.status != 303] == []
    assert len(await audit_rows(app, "console.signed_in")) == 1


async def test_a_busy_session_still_ends_twelve_hours_after_sign_in(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "o1", "owner")
    step = IDLE - timedelta(minutes=10)  # a click well inside every idle window
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        elapsed = timedelta(0)
        while elapsed + step < MAX_AGE:
            clock.advance(step)
            elapsed += step
            assert (await browser.get("/admin/members")).status == 200, elapsed
        clock.advance(MAX_AGE - elapsed)
        assert (await browser.get("/admin/")).status == 401


@pytest.mark.parametrize(
    "path",
    [
        "/admin/static/../templates/base.html",
        "/admin/static/%2e%2e/templates/base.html",
        "/admin/static/..%2ftemplates%2fbase.html",
        "/admin/static/%2e%2e%2f%2e%2e%2fsecurity.py",
        "/admin/static/",
    ],
)
async def test_no_path_climbs_out_of_the_static_folder(app: App, path: str) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for answer in (
            await client.get(path, allow_redirects=False),
            await browser.get(path),
        ):
            body = await answer.read()
            assert answer.status in (401, 403, 404), (path, answer.status)
            assert b"{% block" not in body
            assert b"import hmac" not in body


async def test_head_on_a_page_answers_as_its_get_does(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for path in ("/admin/", "/admin/members", "/admin/settings"):
            answer = await client.head(path, headers=browser.headers, allow_redirects=False)
            assert answer.status == 200, (path, answer.status)
            assert (await client.head(path, allow_redirects=False)).status == 401


#: the console's campaign form filled as an owner fills it (the wizard's answers on one form)
CAMPAIGN = {
    "name": "Everyone",
    "segment": "everyone",
    "message": "Hi {name}",
    "offer": "buy_x_get_y",
    "value": "1-1",
    "title": "-",
    "dates": "7",
    "window": "",
    "branches": "",
    "cost": "40",
    "label": "",
    "when": "",
    "holdout": "10",
}


async def test_a_branch_managers_campaign_preview_names_no_member_of_another_branch(
    app: App,
) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    for n in range(6):  # enough that one is sure to be outside the 10% hold-out
        await make_member(
            app,
            f"Ratchada Ron{n}",
            f"08222222{n:02d}",
            user_id=f"r{n}",
            home_branch_code="ratchada",
        )
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    await owner.say("/segment new everyone visits >= 0")
    async with console_client(app) as client:
        boss = await signed_in(client, owner)
        await boss.get("/admin/campaigns/new")
        saved = await boss.post("/admin/campaigns/new", CAMPAIGN)
        assert saved.status == 303, await saved.text()
        preview = saved.headers["Location"]
        assert "Ratchada Ron" in await (await boss.get(preview)).text()  # the owner's: fine
        ours = await signed_in(client, manager)
        # the member page of the same person is a 404 for this manager
        shown = await ours.get(preview)
        assert shown.status == 200
        assert "Ratchada Ron" not in await shown.text()
        assert "As Somsri (sample) will see it:" in await shown.text()  # none of Asoke's yet
        await make_member(app, "Asoke Ann", "0823333300", user_id="a0", home_branch_code="asoke")
        assert "As Asoke Ann will see it:" in await (await ours.get(preview)).text()


MARKUP = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def _no_live_markup(path: str, html: str) -> None:
    assert "<img src=x" not in html, path
    assert "<script>alert" not in html, path


async def test_markup_typed_anywhere_is_shown_as_text_on_every_page(app: App) -> None:
    """A customer's name and message, and an owner's shop name, branch, reward, campaign name
    and message and a note, each holding markup: every page shows it as text."""
    await ensure_branches(app, ("asoke",))
    chat, member = await member_chat(app, name=MARKUP, home_branch_code="asoke")
    await chat.say(MARKUP)
    [thread] = await threads(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/segment new everyone visits >= 0")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        for path, form in (
            ("/admin/settings/shop-name", {"name_th": MARKUP, "name_en": MARKUP}),
            (
                "/admin/settings/branches/add",
                {"code": "evil", "name_th": MARKUP, "name_en": MARKUP},
            ),
            ("/admin/settings/rewards/add", {"name_th": MARKUP, "name_en": MARKUP, "cost": "10"}),
            (f"/admin/members/{member.id}/notes", {"note": MARKUP}),
            ("/admin/campaigns/new", {**CAMPAIGN, "name": MARKUP, "message": MARKUP + " {name}"}),
        ):
            answer = await browser.post(path, form)
            assert answer.status == 303, (path, answer.status, await answer.text())
        campaign = (await browser.post("/admin/campaigns/new", CAMPAIGN)).headers["Location"]
        # a sale at the branch whose name is markup: its name labels the overview's chart
        await add_sale(app, member.id, "evil", app.clock.now() - timedelta(days=1))
        pages = [
            "/admin/",
            "/admin/members",
            f"/admin/members/{member.id}",
            "/admin/inbox",
            f"/admin/inbox/{thread.id}",
            "/admin/campaigns",
            "/admin/campaigns/1",
            "/admin/campaigns/1/preview",
            campaign,
            "/admin/settings",
            "/admin/segments",
            "/admin/reports",
            "/admin/staff",
        ]
        for path in pages:
            answer = await browser.get(path)
            assert answer.status == 200, path
            html = await answer.text()
            _no_live_markup(path, html)
            if path in ("/admin/", "/admin/inbox", "/admin/campaigns", "/admin/settings"):
                assert "&lt;img src=x" in html, path  # shown, as text
        for path, form in (
            ("/admin/members", {"q": MARKUP}),
            ("/admin/members/filter", {"rule": MARKUP}),
            ("/admin/segments/new", {"name": MARKUP, "rule": MARKUP}),
            ("/admin/campaigns/new", {**CAMPAIGN, "message": MARKUP + " {nope}"}),
        ):
            answer = await browser.post(path, form)
            _no_live_markup(path, await answer.text())
        assert "&lt;img src=x" in await (await browser.get("/admin/members")).text()


@pytest.mark.parametrize("target", ["1E+99", "9" * 40, "1e999999"])
async def test_a_huge_target_uplift_gets_an_answer_not_a_500(app: App, target: str) -> None:
    await ensure_branches(app, ("asoke",))
    now = app.clock.now()
    for n in range(40):  # half of them spent lately and before: a spread to size from
        member = await make_member(
            app, f"M{n}", f"08222222{n:02d}", user_id=f"r{n}", home_branch_code="asoke"
        )
        if n % 2:
            await add_sale(app, member.id, "asoke", now - timedelta(days=2), str(50 + n * 7))
            await add_sale(app, member.id, "asoke", now - timedelta(days=20), str(30 + n * 3))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/segment new everyone visits >= 0")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/campaigns/new")
        preview = (await browser.post("/admin/campaigns/new", CAMPAIGN)).headers["Location"]
        sized = await browser.get(f"{preview}?target=30")
        assert sized.status == 200  # an ordinary target is answered
        answer = await browser.get(f"{preview}?target={quote(target)}")
        assert answer.status == 200, answer.status
        assert "Size the hold-out" in await answer.text()
        assert "The uplift must be an amount of baht above 0" in await answer.text()


async def test_a_huge_form_and_odd_addresses_are_refused_calmly(app: App) -> None:
    """A 2 MB form (past the app's 1 MB), a NUL or a non-UTF-8 byte in a path or a query, a
    5,000-digit page cursor, a 5,000-character sign-in token: a 4xx or the page, never a 500."""
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    huge = b"q=" + b"x" * (2 * 1024**2)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for headers in ({}, browser.headers):
            answer = await client.post(
                "/admin/signin" if not headers else "/admin/members",
                data=huge,
                headers={**headers, "Content-Type": _URLENCODED},
                allow_redirects=False,
            )
            assert answer.status == 413
            assert "Content-Security-Policy" in answer.headers
        for raw in (
            "/admin/signin/%FF%FE",
            "/admin/signin/abc%00",
            "/admin/signin/" + "A" * 5000,
            "/admin/members?after=%FF",
            "/admin/members?after=" + "9" * 5000,
            "/admin/?days=%FF",
            "/admin/reports?days=%FF%00",
            "/admin/members/1%00",
        ):
            answer = await client.get(
                URL(raw, encoded=True), headers=browser.headers, allow_redirects=False
            )
            assert answer.status in (200, 403, 404), (raw[:60], answer.status)
        assert (await browser.get("/admin/")).status == 200
