"""The console's pages: the overview, the member list and search, a member's page.

Every page reads through ``storage`` (and the shop's rules through ``shop``), scoped to the
viewer's branch: a manager of one branch gets a 404 for another branch's member, the same
answer as for a member who does not exist (no probing by id).

A search is a POST (with the form token): what was typed, a phone or a name, stays out of the
URL, so out of the browser's history and the access log. Plain paging is a GET by member id.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.member_edit import member_extras
from bot.admin.render import page
from bot.admin.reports import overview_charts, window_of
from bot.core.errors import InvalidInput
from bot.core.ids import row_id
from bot.i18n import format_phone
from handlers.staff.lookup import member_code_in
from handlers.staff.report import SETTINGS_KEY, point_value
from shop.console import Viewer
from shop.inputs import parse_phone
from shop.loyalty import load_rules
from storage.console_queries import MemberPage, member_page
from storage.console_queries import overview as overview_numbers
from storage.models import Branch
from storage.uow import UnitOfWork

WINDOWS: Final = (7, 30, 90)
PAGE_SIZE: Final = 50
_MAX_QUERY: Final = 100


def _branch_name(branch: Branch | None, locale: str) -> str | None:
    if branch is None:
        return None
    return branch.name_th if locale == "th" else branch.name_en


async def overview(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        numbers = await overview_numbers(
            uow, app.clock.now(), app.settings.tz, WINDOWS, viewer.branch_id
        )
        value = point_value(await uow.settings.get(SETTINGS_KEY), await load_rules(uow))
        branch = await uow.branches.get(viewer.branch_id) if viewer.branch_id else None
        days = window_of(request)
        charts = await overview_charts(uow, viewer, app.clock.now(), app.settings.tz, days)
    return page(
        request,
        viewer,
        viewer.locale,
        "overview.html",
        title_key="admin.overview_title",
        numbers=numbers,
        liability=numbers.points_outstanding * value,
        branch_name=_branch_name(branch, viewer.locale),
        by_branch_days=max(WINDOWS),
        charts=charts,
    )


def _after(value: object) -> int:
    text = value if isinstance(value, str) else ""
    return row_id(text) or 0


async def _search(uow: UnitOfWork, viewer: Viewer, query: str, after: int) -> MemberPage:
    """Members matching what was typed: a member code, a phone in any Thai format, a name."""
    if not query:
        return await member_page(uow, viewer.branch_id, after, PAGE_SIZE)
    try:
        phone: str | None = parse_phone(query)
    except InvalidInput:
        phone = None
    return await member_page(
        uow,
        viewer.branch_id,
        after,
        PAGE_SIZE,
        name=None if phone else query,
        phone=phone,
        code=member_code_in(query),
    )


async def _member_list(request: web.Request, query: str, after: int) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        found = await _search(uow, viewer, query, after)
    return page(
        request,
        viewer,
        viewer.locale,
        "members.html",
        title_key="admin.members_title",
        found=found,
        query=query,
        phone=format_phone,
    )


async def members(request: web.Request) -> web.Response:
    return await _member_list(request, "", _after(request.query.get("after")))


async def search(request: web.Request) -> web.Response:
    form = await request.post()
    query = form_text(form, "q").strip()[:_MAX_QUERY]
    return await _member_list(request, query, _after(form.get("after")))


async def member(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    now = app.clock.now()
    member_id = int(request.match_info["member_id"][:18])
    async with app.uow() as uow:
        found = await uow.members.get(member_id)
        hidden = viewer.branch_id is not None and (
            found is None or found.home_branch_id != viewer.branch_id
        )
        if found is None or found.erased_at is not None or hidden:
            return page(
                request,
                viewer,
                viewer.locale,
                "message.html",
                status=404,
                title_key="admin.console",
                message_key="admin.not_found",
            )
        home = await uow.branches.get(found.home_branch_id) if found.home_branch_id else None
        branches = {b.id: _branch_name(b, viewer.locale) for b in await uow.branches.every()}
        sales = await uow.members.sales(member_id, limit=10)
        coupons = await uow.coupons.of_member(member_id, now, limit=20)
        ledger = await uow.points.latest(member_id, limit=20)
        tags = await uow.people.tags(member_id)
        notes = await uow.people.notes(member_id, limit=10)
        extras = await member_extras(uow, member_id, viewer.locale, now, app.settings.tz)
        # a member's page is personal data: who looked, and when, is on record
        await uow.audit.record(viewer.actor, "console.member_viewed", now, member_id=member_id)
        await uow.commit()
    return page(
        request,
        viewer,
        viewer.locale,
        "member.html",
        title_key="admin.member_title",
        member=found,
        home=_branch_name(home, viewer.locale),
        branches=branches,
        phone=format_phone(found.phone),
        sales=sales,
        coupons=coupons,
        ledger=ledger,
        tags=tags,
        notes=notes,
        **extras,
    )
