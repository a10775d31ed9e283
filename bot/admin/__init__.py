"""The owner's web console under ``/admin/``: server-rendered pages (Jinja2), no script.

Security lives in :mod:`bot.admin.security` (headers on every answer, the session of every
page, the form token of every POST); sign-in and sign-out in :mod:`bot.admin.signin`; the
pages in :mod:`bot.admin.pages`. Who may sign in and for how long is :mod:`shop.console`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from bot.admin import (
    campaign_form,
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
    # segments and campaigns (bot.admin.segments, bot.admin.campaigns, bot.admin.campaign_form)
    admin.router.add_get("/segments", segments.list_segments)
    admin.router.add_get("/segments/new", segments.new_form)
    admin.router.add_post("/segments/new", segments.create_segment)
    admin.router.add_post("/segments/count", segments.count)
    admin.router.add_get("/segments/{segment_id:[0-9]+}", segments.edit_form)
    admin.router.add_post("/segments/{segment_id:[0-9]+}", segments.edit_segment)
    admin.router.add_post("/segments/{segment_id:[0-9]+}/delete", segments.delete_segment)
    admin.router.add_get("/campaigns", campaigns.list_campaigns)
    admin.router.add_get("/campaigns/new", campaign_form.new_form)
    admin.router.add_post("/campaigns/new", campaign_form.create)
    admin.router.add_get("/campaigns/{campaign_id:[0-9]+}", campaigns.show)
    admin.router.add_get("/campaigns/{campaign_id:[0-9]+}/preview", campaigns.preview)
    admin.router.add_post("/campaigns/{campaign_id:[0-9]+}/send", campaigns.send)
    admin.router.add_post("/campaigns/{campaign_id:[0-9]+}/cancel", campaigns.cancel)
    admin.router.add_post("/campaigns/{campaign_id:[0-9]+}/resume", campaigns.resume_sending)
    # inbox
    admin.router.add_get("/inbox", inbox.threads)
    admin.router.add_get("/inbox/{thread_id:[0-9]+}", inbox.thread)
    admin.router.add_post("/inbox/{thread_id:[0-9]+}/reply", inbox.reply)
    admin.router.add_post("/inbox/{thread_id:[0-9]+}/close", inbox.close_thread)
    # staff
    admin.router.add_get("/staff", staff.team)
    admin.router.add_post("/staff/invite", staff.invite)
    admin.router.add_post("/staff/invites/{invite_id:[0-9]+}/revoke", staff.revoke)
    admin.router.add_get("/staff/{staff_id:[0-9]+}/remove", staff.confirm_remove)
    admin.router.add_post("/staff/{staff_id:[0-9]+}/remove", staff.remove)
    # settings
    admin.router.add_get("/settings", settings.show)
    admin.router.add_post("/settings/shop-name", settings.shop_name)
    admin.router.add_post("/settings/line-price", settings.line_price)
    admin.router.add_post("/settings/policy", settings.policy)
    admin.router.add_post("/settings/tiers", settings.tier_label)
    admin.router.add_post("/settings/automations/{name:[a-z_]+}/switch", settings.automation_switch)
    admin.router.add_post("/settings/automations/{name:[a-z_]+}/number", settings.automation_number)
    admin.router.add_post("/settings/automations/{name:[a-z_]+}/text", settings.automation_text)
    admin.router.add_post("/settings/automations/{name:[a-z_]+}/gift", settings.automation_gift)
    admin.router.add_post("/settings/rules", settings.loyalty_rule)
    admin.router.add_post("/settings/rewards/add", settings_rewards.add)
    admin.router.add_post("/settings/rewards/{reward_id:[0-9]+}/number", settings_rewards.number)
    admin.router.add_post("/settings/rewards/{reward_id:[0-9]+}/switch", settings_rewards.switch)
    admin.router.add_post("/settings/lifecycle/preview", settings_lifecycle.preview)
    admin.router.add_post("/settings/lifecycle", settings_lifecycle.save)
    admin.router.add_post("/settings/branches/add", settings.branch_add)
    admin.router.add_post("/settings/branches/{code:[a-z0-9-]+}/rename", settings.branch_rename)
    admin.router.add_post("/settings/branches/{code:[a-z0-9-]+}/open", settings.branch_open)
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
