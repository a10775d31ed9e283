"""What every console answer and request goes through.

- Headers on every answer (errors too): a Content-Security-Policy that allows no inline
  script, no framing, no referrer to another site (a URL never leaves the console), and ``no-store``
  so no shared proxy or back button keeps a page of members.
- A session for every page but sign-in itself: the cookie's id is looked up server-side and
  checked against the staff row (:func:`shop.console.resume`).
- A form token on every POST of a signed-in page, compared in constant time; changes are
  POST only, so a link or an image on another site cannot make one.
- A POST naming another site in ``Origin`` (or ``Referer``) is refused before anything else,
  the sign-in too (:mod:`bot.admin.origin`: the sign-in has no form token to stop login CSRF).
- Every POST's form is read once, here, before any handler: a body that is not UTF-8, names
  a charset nobody knows or is broken multipart is a 400 in the user's language (the sign-in
  too), and no handler runs, so nothing is written.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from bot.admin.keys import ADMIN_APP, MAX_TOKEN, PREFIX, SESSION_ID, VIEWER
from bot.admin.origin import foreign
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
    # the console's own POSTs name their origin (a browser sends ``Origin: null`` under
    # no-referrer, which could not be told from a hiding site); other sites get no referrer
    "Referrer-Policy": "same-origin",
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
    except Exception:
        # aiohttp's own 500 would carry none of the headers; the traceback goes to the log only
        log.exception("console: %s %s failed", request.method, request.path)
        raise web.HTTPInternalServerError(headers=HEADERS) from None
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


async def _form_unreadable(request: web.Request) -> bool:
    """Whether a POST's form cannot be read as text. aiohttp keeps the form it read, so the
    handlers' own ``request.post()`` gets it without reading the body again."""
    if request.method != "POST":
        return False
    try:
        await request.post()
    except (ValueError, LookupError):  # bytes not in the charset, an unknown one, no boundary
        return True
    return False


def _refusal(
    request: web.Request, viewer: Viewer | None, locale: str, status: int, key: str
) -> web.Response:
    """The page saying why a request was refused, signed in or on the sign-in."""
    title = "admin.console" if viewer is not None else "admin.signin_title"
    return page(
        request, viewer, locale, "message.html", status=status, message_key=key, title_key=title
    )


def _unreadable(request: web.Request, viewer: Viewer | None, locale: str) -> web.Response:
    log.info("console: a form that could not be read as text was refused")
    return _refusal(request, viewer, locale, 400, "admin.unreadable_form")


async def _link_locale(request: web.Request, app: App) -> str:
    """The language of the sign-in link a refused sign-in posts (the shop's without one)."""
    token = (await request.post()).get("token")
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN:
        async with app.uow() as uow:
            locale = await uow.console.open_link_locale(token, app.clock.now())
        return locale or app.settings.locale
    return app.settings.locale


def _foreign_site(request: web.Request, viewer: Viewer | None, locale: str) -> web.Response:
    # an operator behind a proxy that rewrites Host sees every form refused: say what was
    # compared and what tells the console its public address
    log.warning(
        "console: a %s naming %r was refused for Host %r; behind a proxy that rewrites Host, "
        "set CHATCRM_PUBLIC_URL to the console's public address",
        request.method,
        request.headers.get("Origin") or request.headers.get("Referer"),
        request.host,
    )
    return _refusal(request, viewer, locale, 403, "admin.foreign_site")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    app = request.app[ADMIN_APP]
    if resource is not None and resource.name in PUBLIC:
        if await _form_unreadable(request):
            return _unreadable(request, None, app.settings.locale)
        if foreign(request, app.settings.public_url):
            return _foreign_site(request, None, await _link_locale(request, app))
        return await handler(request)
    session_id = request.cookies.get(COOKIE)
    viewer = None
    if session_id:
        async with app.uow() as uow:
            viewer = await resume(uow, session_id, app.clock.now())
            await uow.commit()
    if viewer is None or session_id is None:
        response = _refusal(request, None, app.settings.locale, 401, "admin.session_over")
        clear_session_cookie(response)
        return response
    if await _form_unreadable(request):
        return _unreadable(request, viewer, viewer.locale)
    if foreign(request, app.settings.public_url):
        return _foreign_site(request, viewer, viewer.locale)
    if request.method not in ("GET", "HEAD") and not await _csrf_ok(request, viewer):
        log.warning("console: a POST without a valid form token was refused")
        return _refusal(request, viewer, viewer.locale, 403, "admin.bad_form")
    request[VIEWER] = viewer
    request[SESSION_ID] = session_id
    return await handler(request)
