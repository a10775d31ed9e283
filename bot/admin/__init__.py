"""The owner's web console under ``/admin/``: server-rendered pages (Jinja2), no script.

Security lives in :mod:`bot.admin.security` (headers on every answer, the session of every
page, the form token of every POST); sign-in and sign-out in :mod:`bot.admin.signin`; the
pages in :mod:`bot.admin.pages`. Who may sign in and for how long is :mod:`shop.console`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from bot.admin import member_edit, member_filter, pages, reports, signin
from bot.admin.keys import ADMIN_APP, PREFIX
from bot.admin.security import PUBLIC, headers_middleware, session_middleware
from bot.bootstrap import App
from handlers.campaigns.chart_font import WEIGHTS, font_files

__all__ = ["PREFIX", "build_admin", "headers_middleware"]

_STATIC: Final = Path(__file__).parent / "static"


async def font(request: web.Request) -> web.FileResponse:
    """Sarabun, the charts' font (installed with the project): Thai reads right on a browser
    or phone without a Thai font, and no page loads anything from another site."""
    weight = int(request.match_info["weight"])
    return web.FileResponse(font_files()[WEIGHTS.index(weight)])


def build_admin(app: App) -> web.Application:
    """The console as a sub-application, to be added at :data:`PREFIX`."""
    admin = web.Application(middlewares=[session_middleware])
    admin[ADMIN_APP] = app
    admin.router.add_get("/signin/{token}", signin.confirm, name="signin")
    admin.router.add_post("/signin", signin.sign_in, name="signin_post")
    admin.router.add_get("/signedout", signin.signed_out, name="signedout")
    admin.router.add_post("/signout", signin.sign_out)
    admin.router.add_get("/", pages.overview)
    admin.router.add_get("/members", pages.members)
    admin.router.add_post("/members", pages.search)
    admin.router.add_get("/members/{member_id:[0-9]+}", pages.member)
    # w18c: members filtered by a segment rule, its live count, its CSV export; reports
    admin.router.add_post("/members/filter", member_filter.filtered)
    admin.router.add_post("/members/count", member_filter.count)
    admin.router.add_post("/members/export", member_filter.export)
    admin.router.add_get("/reports", reports.reports)
    admin.router.add_post("/members/{member_id:[0-9]+}/tags", member_edit.tags)
    admin.router.add_post("/members/{member_id:[0-9]+}/notes", member_edit.notes)
    admin.router.add_get("/font/{weight:400|700}.ttf", font, name="font")
    admin.router.add_static("/static/", _STATIC, name="static")
    assert {"signin", "signin_post", "signedout", "static", "font"} == set(PUBLIC)
    return admin
