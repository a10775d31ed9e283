"""The owner's web console under ``/admin/``: server-rendered pages (Jinja2), no script.

Security lives in :mod:`bot.admin.security` (headers on every answer, the session of every
page, the form token of every POST); sign-in and sign-out in :mod:`bot.admin.signin`; the
pages in :mod:`bot.admin.pages`. Who may sign in and for how long is :mod:`shop.console`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from aiohttp import web

from bot.admin import (
    campaign_form,
    campaign_tools,
    campaigns,
    inbox,
    member_edit,
    member_filter,
    pages,
    reports,
    segments,
    settings,
    settings_lifecycle,
    settings_rewards,
    signin,
    staff,
)
from bot.admin.keys import ADMIN_APP, PREFIX
from bot.admin.security import PUBLIC, headers_middleware, session_middleware
from bot.bootstrap import App
from handlers.campaigns.chart_font import WEIGHTS, font_files

__all__ = ["PREFIX", "build_admin", "headers_middleware"]

_STATIC: Final = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def font(request: web.Request) -> web.FileResponse:
    """Sarabun, the charts' font (installed with the project): Thai reads right on a browser
    or phone without a Thai font, and no page loads anything from another site."""
    weight = int(request.match_info["weight"])
    return web.FileResponse(font_files()[WEIGHTS.index(weight)])


#: the console's pages and actions (the sign-in routes, the font and the static files are
#: added by name in :func:`build_admin`)
ROUTES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("GET", "/", pages.overview),
    ("GET", "/members", pages.members),
    ("POST", "/members", pages.search),
    ("GET", "/members/{member_id:[0-9]+}", pages.member),
    # segments and campaigns (bot.admin.segments, bot.admin.campaigns, bot.admin.campaign_form)
    ("GET", "/segments", segments.list_segments),
    ("GET", "/segments/new", segments.new_form),
    ("POST", "/segments/new", segments.create_segment),
    ("POST", "/segments/count", segments.count),
    ("GET", "/segments/{segment_id:[0-9]+}", segments.edit_form),
    ("POST", "/segments/{segment_id:[0-9]+}", segments.edit_segment),
    ("POST", "/segments/{segment_id:[0-9]+}/delete", segments.delete_segment),
    ("GET", "/campaigns", campaigns.list_campaigns),
    ("GET", "/campaigns/new", campaign_form.new_form),
    ("POST", "/campaigns/new", campaign_form.create),
    ("GET", "/campaigns/{campaign_id:[0-9]+}", campaigns.show),
    ("GET", "/campaigns/{campaign_id:[0-9]+}/preview", campaigns.preview),
    ("POST", "/campaigns/{campaign_id:[0-9]+}/send", campaigns.send),
    ("POST", "/campaigns/{campaign_id:[0-9]+}/cancel", campaigns.cancel),
    ("POST", "/campaigns/{campaign_id:[0-9]+}/resume", campaigns.resume_sending),
    ("POST", "/campaigns/{campaign_id:[0-9]+}/test", campaign_tools.test_send),
    ("POST", "/campaigns/message-preview", campaign_tools.message_preview),
    # inbox
    ("GET", "/inbox", inbox.threads),
    ("GET", "/inbox/{thread_id:[0-9]+}", inbox.thread),
    ("POST", "/inbox/{thread_id:[0-9]+}/reply", inbox.reply),
    ("POST", "/inbox/{thread_id:[0-9]+}/close", inbox.close_thread),
    # staff
    ("GET", "/staff", staff.team),
    ("POST", "/staff/invite", staff.invite),
    ("POST", "/staff/invites/{invite_id:[0-9]+}/revoke", staff.revoke),
    ("GET", "/staff/{staff_id:[0-9]+}/remove", staff.confirm_remove),
    ("POST", "/staff/{staff_id:[0-9]+}/remove", staff.remove),
    # settings
    ("GET", "/settings", settings.show),
    ("POST", "/settings/shop-name", settings.shop_name),
    ("POST", "/settings/line-price", settings.line_price),
    ("POST", "/settings/policy", settings.policy),
    ("POST", "/settings/tiers", settings.tier_label),
    ("POST", "/settings/automations/{name:[a-z_]+}/switch", settings.automation_switch),
    ("POST", "/settings/automations/{name:[a-z_]+}/number", settings.automation_number),
    ("POST", "/settings/automations/{name:[a-z_]+}/text", settings.automation_text),
    ("POST", "/settings/automations/{name:[a-z_]+}/gift", settings.automation_gift),
    ("POST", "/settings/rules", settings.loyalty_rule),
    ("POST", "/settings/rewards/add", settings_rewards.add),
    ("POST", "/settings/rewards/{reward_id:[0-9]+}/number", settings_rewards.number),
    ("POST", "/settings/rewards/{reward_id:[0-9]+}/switch", settings_rewards.switch),
    ("POST", "/settings/lifecycle/preview", settings_lifecycle.preview),
    ("POST", "/settings/lifecycle", settings_lifecycle.save),
    ("POST", "/settings/branches/add", settings.branch_add),
    ("POST", "/settings/branches/{code:[a-z0-9-]+}/rename", settings.branch_rename),
    ("POST", "/settings/branches/{code:[a-z0-9-]+}/open", settings.branch_open),
    # w18c: members filtered by a segment rule, its live count, its CSV export; reports
    ("POST", "/members/filter", member_filter.filtered),
    ("POST", "/members/count", member_filter.count),
    ("POST", "/members/export", member_filter.export),
    ("GET", "/reports", reports.reports),
    ("POST", "/members/{member_id:[0-9]+}/tags", member_edit.tags),
    ("POST", "/members/{member_id:[0-9]+}/notes", member_edit.notes),
)


def build_admin(app: App) -> web.Application:
    """The console as a sub-application, to be added at :data:`PREFIX`."""
    admin = web.Application(middlewares=[session_middleware])
    admin[ADMIN_APP] = app
    admin.router.add_get("/signin/{token}", signin.confirm, name="signin")
    admin.router.add_post("/signin", signin.sign_in, name="signin_post")
    admin.router.add_get("/signedout", signin.signed_out, name="signedout")
    admin.router.add_post("/signout", signin.sign_out)
    for method, path, handler in ROUTES:
        if method == "GET":  # and HEAD, answered as GET without the body (a link checker's)
            admin.router.add_get(path, handler)
        else:
            admin.router.add_route(method, path, handler)
    admin.router.add_get("/font/{weight:400|700}.ttf", font, name="font")
    admin.router.add_static("/static/", _STATIC, name="static")
    assert {"signin", "signin_post", "signedout", "static", "font"} == set(PUBLIC)
    return admin
