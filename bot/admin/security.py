"""What every console answer and request goes through.

- Headers on every answer (errors too): a Content-Security-Policy that allows no inline
  script, no framing, no referrer (a URL never leaves for another site), and ``no-store``
  so no shared proxy or back button keeps a page of members.
- A session for every page but sign-in itself: the cookie's id is looked up server-side and
  checked against the staff row (:func:`shop.console.resume`).
- A form token on every POST of a signed-in page, compared in constant time; changes are
  POST only, so a link or an image on another site cannot make one.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from bot.admin.keys import ADMIN_APP, PREFIX, SESSION_ID, VIEWER
from bot.admin.render import page
from bot.bootstrap import App
from shop.console import Viewer, resume

log = logging.getLogger(__name__)

COOKIE: Final = "chatcrm_console"
#: routes open without a session
PUBLIC: Final = ("signin", "signin_post", "signedout", "static", "font")
HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On the outer app, for every path under :data:`PREFIX` (a 404 there included)."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    return response


def cookie_secure(public_url: str | None) -> bool:
    """Secure everywhere but a plain-http loopback address (a developer's own machine)."""
    if not public_url:
        return True
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and parts.hostname in LOOPBACK)


def set_session_cookie(response: web.StreamResponse, app: App, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        path=PREFIX,
        httponly=True,
        secure=cookie_secure(app.settings.public_url),
        samesite="Strict",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=PREFIX)


async def _csrf_ok(request: web.Request, viewer: Viewer) -> bool:
    form = await request.post()
    sent = form.get("csrf")
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), viewer.csrf.encode())


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is not None and resource.name in PUBLIC:
        return await handler(request)
    app = request.app[ADMIN_APP]
    session_id = request.cookies.get(COOKIE)
    viewer = None
    if session_id:
        async with app.uow() as uow:
            viewer = await resume(uow, session_id, app.clock.now())
            await uow.commit()
    if viewer is None or session_id is None:
        response = page(
            request,
            None,
            app.settings.locale,
            "message.html",
            status=401,
            message_key="admin.session_over",
            title_key="admin.signin_title",
        )
        clear_session_cookie(response)
        return response
    if request.method not in ("GET", "HEAD") and not await _csrf_ok(request, viewer):
        log.warning("console: a POST without a valid form token was refused")
        return page(
            request,
            viewer,
            viewer.locale,
            "message.html",
            status=403,
            message_key="admin.bad_form",
            title_key="admin.console",
        )
    request[VIEWER] = viewer
    request[SESSION_ID] = session_id
    return await handler(request)
