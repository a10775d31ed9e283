"""Sign-in from the chat's link, and sign-out.

Opening the link shows a page with one button; only pressing it (a POST) uses the link.
Chat apps fetch a link's page to show a preview, and that fetch must not burn a single-use
link. After signing in the browser is sent to ``/admin/``: the token leaves the address bar.
"""

from __future__ import annotations

from aiohttp import web

from bot.admin.keys import ADMIN_APP, MAX_TOKEN, PREFIX, SESSION_ID, VIEWER
from bot.admin.render import page
from bot.admin.security import clear_session_cookie, set_session_cookie
from shop import console


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def confirm(request: web.Request) -> web.Response:
    app = request.app[ADMIN_APP]
    token = request.match_info["token"][:MAX_TOKEN]
    async with app.uow() as uow:
        locale = await uow.console.open_link_locale(token, app.clock.now())
    if locale is None:
        return _invalid(request)
    return page(request, None, locale, "signin.html", title_key="admin.signin_title", token=token)


def _invalid(request: web.Request) -> web.Response:
    locale = request.app[ADMIN_APP].settings.locale
    return page(
        request,
        None,
        locale,
        "message.html",
        status=403,
        title_key="admin.signin_title",
        message_key="admin.signin_invalid",
    )


async def sign_in(request: web.Request) -> web.StreamResponse:
    app = request.app[ADMIN_APP]
    token = (await request.post()).get("token")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return _invalid(request)
    async with app.uow() as uow:
        started = await console.sign_in(uow, token, app.clock.now())
        await uow.commit()
    if started is None:
        return _invalid(request)
    session_id, _ = started
    response = see_other(PREFIX)
    set_session_cookie(response, app, session_id)
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    app = request.app[ADMIN_APP]
    async with app.uow() as uow:
        await console.sign_out(uow, request[SESSION_ID], request[VIEWER], app.clock.now())
        await uow.commit()
    response = see_other(f"{PREFIX}signedout")
    clear_session_cookie(response)
    return response


async def signed_out(request: web.Request) -> web.Response:
    return page(
        request,
        None,
        request.app[ADMIN_APP].settings.locale,
        "message.html",
        title_key="admin.sign_out",
        message_key="admin.signed_out",
    )
