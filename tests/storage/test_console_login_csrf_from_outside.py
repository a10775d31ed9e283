"""Login CSRF on the web console, over HTTP: a page of another site posting the attacker's own
sign-in link from a victim's browser must not sign that browser into the attacker's session.
A POST naming another site in ``Origin`` (or, without it, ``Referer``) is refused with a 403
in the user's language and nothing written; the console's own pages and clients that send
neither header (curl, old browsers) sign in as before, and the form token of a signed-in
page's POST is still asked for."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from storage.models import ConsoleSession
from tests.unit.admin_support import Client, ask_link, console_client, session_of, signed_in
from tests.unit.journey_support import rows
from tests.unit.staff_support import audit_rows, staff_chat

EVIL = "https://evil.example"
REFUSED_EN = "This request came from another website"
REFUSED_TH = "คำขอนี้มาจากเว็บไซต์อื่น"


def own_origin(client: Client) -> str:
    return f"http://{client.host}:{client.port}"


async def post_signin(client: Client, token: str, headers: dict[str, str]) -> tuple[int, str]:
    response = await client.post(
        "/admin/signin", data={"token": token}, headers=headers, allow_redirects=False
    )
    assert "Set-Cookie" not in response.headers or response.status == 303
    return response.status, await response.text()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # a sandboxed frame, or a site hiding its address
        {"Referer": f"{EVIL}/admin/signin"},
        {"Origin": "https://shop.example.evil.example"},
        {"Origin": EVIL, "Referer": "https://shop.example/admin/signin/x"},
    ],
    ids=["origin", "null-origin", "referer-only", "look-alike", "origin-wins"],
)
async def test_a_sign_in_posted_from_another_site_is_refused_and_keeps_the_link(
    app: App, headers: dict[str, str]
) -> None:
    attacker = await staff_chat(app, "o1", "owner", language_code="en")
    token = await ask_link(attacker)
    async with console_client(app) as client:
        status, text = await post_signin(client, token, headers)
        assert status == 403
        assert REFUSED_EN in text
        assert not await rows(app, ConsoleSession)
        assert not await audit_rows(app, "console.signed_in")
        # the link is not used up: the staff member's own press still signs in
        status, _ = await post_signin(client, token, {"Origin": own_origin(client)})
        assert status == 303


async def test_the_refusal_speaks_the_language_of_the_link(app: App) -> None:
    thai = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        status, text = await post_signin(client, await ask_link(thai), {"Origin": EVIL})
    assert status == 403
    assert REFUSED_TH in text


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, an old browser: neither header
        {"Origin": "{own}"},
        {"Referer": "{own}/admin/signin/abc"},
        {"Origin": "https://shop.example"},  # the public URL, behind a proxy rewriting Host
        {"Origin": "https://SHOP.example:443"},
    ],
    ids=["no-header", "own-origin", "own-referer", "public-url", "public-url-spelled-out"],
)
async def test_a_sign_in_from_the_console_itself_or_without_either_header_works(
    app: App, headers: dict[str, str]
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    token = await ask_link(owner)
    async with console_client(app) as client:
        sent = {k: v.replace("{own}", own_origin(client)) for k, v in headers.items()}
        response = await client.post(
            "/admin/signin", data={"token": token}, headers=sent, allow_redirects=False
        )
        assert response.status == 303, await response.text()
        assert session_of(response)


async def test_a_signed_in_post_from_another_site_is_refused_even_with_its_form_token(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        response = await client.post(
            "/admin/signout",
            data={"csrf": browser.csrf},
            headers={**browser.headers, "Origin": EVIL},
            allow_redirects=False,
        )
        assert response.status == 403
        assert REFUSED_EN in await response.text()
        assert (await browser.get("/admin/")).status == 200  # still signed in
        # the console's own origin without the form token: refused by the token, as before
        response = await client.post(
            "/admin/signout",
            data={},
            headers={**browser.headers, "Origin": own_origin(client)},
            allow_redirects=False,
        )
        assert response.status == 403
        assert "This form is out of date" in await response.text()
        own = await client.post(
            "/admin/signout",
            data={"csrf": browser.csrf},
            headers={**browser.headers, "Origin": own_origin(client)},
            allow_redirects=False,
        )
        assert own.status == 303
    assert len(await audit_rows(app, "console.signed_out")) == 1


async def test_console_pages_send_their_origin_on_their_own_posts(app: App) -> None:
    """Under ``no-referrer`` a browser posts ``Origin: null``, which must be refused: the
    console's pages keep referrers to the console itself instead."""
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        page = await client.get(f"/admin/signin/{await ask_link(owner)}")
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert '<meta name="referrer" content="same-origin">' in await page.text()
