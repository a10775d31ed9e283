"""The member list filtered by a segment rule: the page, its live count, its CSV download.

The rule goes through the chat's own steps (:func:`storage.segments.parse_rule`,
:func:`storage.segments.check_rule`, saved segments by name) and a bad rule gets the chat's
message for it. Everything is a POST with the form token: a rule may name a tag or a
campaign, and it stays out of the URL and the access log. A manager of one branch filters,
counts and exports only that branch's members.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import ColumnElement

from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.live import cancelled_when_gone
from bot.admin.pages import PAGE_SIZE
from bot.admin.render import page
from bot.admin.security import HEADERS
from bot.core.ids import row_id
from bot.i18n import format_phone, t, tn
from shop.campaigns.launch import segment_env
from shop.console import Viewer
from shop.loyalty import add_months, load_rules
from storage.console_queries import member_count, page_and_count
from storage.exporting import csv_chunks
from storage.models import Member
from storage.segments import SegmentRuleError, check_rule, compile_condition, parse_rule, with_saved
from storage.uow import UnitOfWork

MAX_RULE: Final = 500
_BOM: Final = "\ufeff"


@dataclass(frozen=True, slots=True)
class Filtered:
    """A rule's outcome: the condition on ``members`` (scoped), or the chat's message."""

    condition: ColumnElement[bool] | None
    error: str | None
    #: the same condition for a page, read member by member (``SegmentEnv.walking``)
    walking: ColumnElement[bool] | None = None


def _field(form: Any, name: str, limit: int) -> str:
    return form_text(form, name).strip()[:limit]


def _after(form: Any) -> int:
    text = _field(form, "after", 19)
    return row_id(text) or 0


async def compile_typed(
    uow: UnitOfWork, text: str, viewer: Viewer, now: datetime, tz: ZoneInfo
) -> Filtered:
    """``text`` as a condition on ``members``, limited to the viewer's branch."""
    env = await with_saved(uow, await segment_env(uow, now, tz))
    try:
        rule = parse_rule(text)
        await check_rule(uow, rule)
        condition = compile_condition(rule, env)
        walking = compile_condition(rule, replace(env, walking=True))
    except SegmentRuleError as error:
        return Filtered(None, t(viewer.locale, error.key, **error.params))
    if viewer.branch_id is not None:
        condition = condition & (Member.home_branch_id == viewer.branch_id)
        walking = walking & (Member.home_branch_id == viewer.branch_id)
    return Filtered(condition, None, walking)


async def filtered(request: web.Request) -> web.Response:
    """POST /members/filter: the first (or ``after``) page of the rule's members and its count."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    rule = _field(form, "rule", MAX_RULE)
    if not rule:
        raise web.HTTPSeeOther("/admin/members")
    async with app.uow() as uow:
        found = await compile_typed(uow, rule, viewer, app.clock.now(), app.settings.tz)
    members, count = None, None
    if found.condition is not None:
        members, count = await page_and_count(
            app.uow, viewer.branch_id, found.condition, _after(form), PAGE_SIZE, found.walking
        )
    return page(
        request,
        viewer,
        viewer.locale,
        "members_filtered.html",
        status=200 if found.error is None else 400,
        title_key="admin.members_title",
        rule=rule,
        error=found.error,
        found=members,
        count=None if count is None else tn(viewer.locale, "admin_reports.count", count),
        phone=format_phone,
    )


@cancelled_when_gone
async def count(request: web.Request) -> web.Response:
    """POST /members/count: ``{"count": n, "text": "…"}`` or ``{"error": "…"}`` (400), for
    the live count the page's script shows while a rule is typed."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    rule = _field(await request.post(), "rule", MAX_RULE)
    if not rule:
        return web.json_response({"count": None, "text": ""})
    # read-only from its first statement: a count at 1M members holds no write lock
    async with app.uow.reading() as uow:
        found = await compile_typed(uow, rule, viewer, app.clock.now(), app.settings.tz)
        if found.condition is None:
            return web.json_response({"error": found.error}, status=400)
        size = await member_count(uow, viewer.branch_id, found.condition)
    text = tn(viewer.locale, "admin_reports.count", size)
    return web.json_response({"count": size, "text": text})


async def export(request: web.Request) -> web.StreamResponse:
    """POST /members/export: the filtered list (or every member of the scope) as the CSV of
    ``chatcrm export members`` — the same writer; audited with the rule and the row count."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    rule = _field(await request.post(), "rule", MAX_RULE)
    now = app.clock.now()
    async with app.uow() as uow:
        rules = await load_rules(uow)
        if rule:
            found = await compile_typed(uow, rule, viewer, now, app.settings.tz)
        else:
            scope = None if viewer.branch_id is None else Member.home_branch_id == viewer.branch_id
            found = Filtered(scope, None)
    if found.error is not None:
        return web.json_response({"error": found.error}, status=400)
    response = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="members.csv"',
        }
    )
    await response.prepare(request)
    await response.write(_BOM.encode())
    written = 0
    async for text, rows in csv_chunks(
        app.engine,
        tz=app.settings.tz,
        tier_since=add_months(now, -rules.tier_window_months),
        tier_for=lambda held, spend: rules.held_tier(held, spend)[0].name,
        where=found.condition,
    ):
        await response.write(text.encode())
        written += rows
    async with app.uow() as uow:
        await uow.audit.record(
            viewer.actor, "console.members_exported", now, rule=rule, members=written
        )
        await uow.commit()
    await response.write_eof()
    return response
