"""Helpers for the web console's tests: a test client on the real web app, sign-in through a
link asked for in the chat, and requests with the session cookie.

The client keeps no cookie jar: every request names the session it sends (or none), so a
test says exactly which browser it is.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import ClientResponse, DummyCookieJar
from aiohttp.test_utils import BaseRunner, TestClient, TestServer

from bot.admin.security import COOKIE
from bot.bootstrap import App
from bot.web import build_web_app
from tests.chat import Chat

_LINK: Final = re.compile(r"/admin/signin/(\S+)")
_CSRF: Final = re.compile(r'name="csrf" value="([^"]+)"')
_SESSION: Final = re.compile(rf"{COOKIE}=([^;]+)")

Client = TestClient[Any, Any]


class ServedServer(TestServer):
    """The test server, run as ``chatcrm serve`` runs the app: a handler goes on when its
    client leaves (aiohttp's test server cancels it, which would hide what serve does)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


@asynccontextmanager
async def console_client(app: App) -> AsyncIterator[Client]:
    client: Client = TestClient(ServedServer(build_web_app(app, [])), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def ask_link(chat: Chat) -> str:
    """The sign-in token of the link ``/dashboard`` answers with."""
    await chat.say("/dashboard")
    found = _LINK.search(chat.text())
    assert found is not None, chat.text()
    return found.group(1)


async def open_link(client: Client, token: str) -> ClientResponse:
    """Open the link and press Sign in: the POST's answer (a redirect when it worked)."""
    await client.get(f"/admin/signin/{token}")
    return await client.post("/admin/signin", data={"token": token}, allow_redirects=False)


def session_of(response: ClientResponse) -> str:
    header = response.headers.get("Set-Cookie", "")
    found = _SESSION.search(header)
    assert found is not None, header
    return found.group(1)


@dataclass
class Browser:
    """One signed-in browser: its session cookie and the form token of its session."""

    client: Client
    session: str
    csrf: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.session}"}

    async def get(self, path: str) -> ClientResponse:
        response = await self.client.get(path, headers=self.headers, allow_redirects=False)
        found = _CSRF.search(await response.text())
        if found is not None:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, str], csrf: bool = True) -> ClientResponse:
        form = {**data, "csrf": self.csrf} if csrf else dict(data)
        return await self.client.post(path, data=form, headers=self.headers, allow_redirects=False)


async def signed_in(client: Client, chat: Chat) -> Browser:
    """A browser signed in from a link ``chat`` asked for, its form token read."""
    response = await open_link(client, await ask_link(chat))
    assert response.status == 303, await response.text()
    browser = Browser(client, session_of(response))
    assert (await browser.get("/admin/")).status == 200
    return browser
