"""The console's segments: the list with sizes, new / edit / delete, and the live count.

Managers and owners, as ``/segments`` and ``/segment`` in the chat (both are open to every
manager: a segment is the shop's, not a branch's). The name and rule checks are
:mod:`shop.segments`'s and saving a new one is the chat's own
:func:`handlers.staff.segments.save.try_create`; a rule's error reads as in the chat. A saved
segment's name stays as created (campaigns and other rules refer to it); its rule may change.
Every change is audited with the staff member and ``channel="web"``.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bot.admin.acting import ConsoleAct
from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.live import cancelled_when_gone
from bot.admin.render import page
from bot.core.errors import DomainError
from bot.i18n import t
from handlers.staff.segments.save import try_create
from shop.campaigns.launch import segment_env
from shop.segments import MAX_NAME, MAX_RULE, checked_rule, rule_size
from storage.models import Segment
from storage.segments import (
    SegmentRuleError,
    audience_size,
    builtin_rules,
    compile_rule,
    parse_rule,
    with_saved,
)
from storage.uow import UnitOfWork

_SCRIPT: Final = "segment-count.js"


def _not_found(request: web.Request) -> web.Response:
    viewer = request[VIEWER]
    return page(
        request,
        viewer,
        viewer.locale,
        "message.html",
        status=404,
        title_key="admin_segments.title",
        message_key="admin.not_found",
    )


async def _sizes(
    act: ConsoleAct,
) -> tuple[list[tuple[str, str, int]], list[tuple[Segment, int | None]]]:
    """The built-in segments (name, label, size) and the saved ones (row, size; None when the
    rule names a segment deleted since)."""
    env = await with_saved(act.uow, await segment_env(act.uow, act.now, act.settings.tz))
    builtin = [
        (
            name,
            act.t(f"segment.builtin_{name}"),
            await audience_size(act.uow, compile_rule(parse_rule(rule), env)),
        )
        for name, rule in builtin_rules(env.lifecycle).items()
    ]
    saved: list[tuple[Segment, int | None]] = []
    for segment in await act.uow.segments.all():
        try:
            size: int | None = await audience_size(
                act.uow, compile_rule(parse_rule(segment.rule), env)
            )
        except SegmentRuleError:
            size = None
        saved.append((segment, size))
    return builtin, saved


async def list_segments(request: web.Request, notice: str = "") -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow.reading() as uow:  # a count per segment: no write lock meanwhile
        builtin, saved = await _sizes(ConsoleAct(uow, app, viewer))
    return page(
        request,
        viewer,
        viewer.locale,
        "segments.html",
        title_key="admin_segments.title",
        builtin=builtin,
        saved=saved,
        notice=notice,
    )


def _form(
    request: web.Request,
    segment: Segment | None,
    name: str,
    rule: str,
    error: str = "",
    status: int = 200,
) -> web.Response:
    viewer = request[VIEWER]
    return page(
        request,
        viewer,
        viewer.locale,
        "segment_form.html",
        status=status,
        title_key="admin_segments.edit_title" if segment else "admin_segments.new_title",
        segment=segment,
        name=name,
        rule=rule,
        error=error,
        max_name=MAX_NAME,
        max_rule=MAX_RULE,
        script=_SCRIPT,
    )


async def new_form(request: web.Request) -> web.Response:
    return _form(request, None, "", "")


async def _segment(uow: UnitOfWork, request: web.Request) -> Segment | None:
    return await uow.segments.get(int(request.match_info["segment_id"][:18]))


async def edit_form(request: web.Request) -> web.Response:
    app = request.app[ADMIN_APP]
    async with app.uow() as uow:
        segment = await _segment(uow, request)
    if segment is None:
        return _not_found(request)
    return _form(request, segment, segment.name, segment.rule)


async def create_segment(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    name = form_text(form, "name").strip()[: MAX_NAME + 1]
    rule = form_text(form, "rule").strip()[:MAX_RULE]
    if not rule:
        return _form(request, None, name, rule, t(viewer.locale, "admin_segments.rule_empty"), 400)
    async with app.uow() as uow:
        act = ConsoleAct(uow, app, viewer)
        try:
            saved, replies = await try_create(act, name, rule)
        except DomainError as error:
            message = t(viewer.locale, error.key, **error.params)
            return _form(request, None, name, rule, message, 400)
        if not saved:  # refused: the chat's reason
            return _form(request, None, name, rule, replies[0].text or "", 400)
        await uow.commit()
    return await list_segments(request, replies[0].text or "")


async def edit_segment(request: web.Request) -> web.Response:
    """A saved segment's new rule, checked as a new one is; audited before and after."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    rule = form_text(form, "rule").strip()[:MAX_RULE]
    async with app.uow() as uow:
        segment = await _segment(uow, request)
        if segment is None:
            return _not_found(request)
        if not rule:
            error = t(viewer.locale, "admin_segments.rule_empty")
            return _form(request, segment, segment.name, rule, error, 400)
        now = app.clock.now()
        try:
            rule, size = await checked_rule(uow, rule, now, app.settings.tz)
        except SegmentRuleError as error:
            message = t(viewer.locale, error.key, **error.params)
            return _form(request, segment, segment.name, rule, message, 400)
        before = segment.rule
        await uow.segments.change(segment, segment.name, rule, now)
        await uow.audit.record(
            viewer.actor,
            "segment.changed",
            now,
            channel="web",
            name=segment.name,
            before=before,
            after=rule,
        )
        await uow.commit()
        name = segment.name
    notice = t(viewer.locale, "admin_segments.changed", name=name, count=size)
    return await list_segments(request, notice)


async def delete_segment(request: web.Request) -> web.Response:
    """Deleting asks first: the form's "yes, delete" box must be ticked."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    async with app.uow() as uow:
        segment = await _segment(uow, request)
        if segment is None:
            return _not_found(request)
        if form.get("confirm") != "yes":
            message = t(viewer.locale, "admin_segments.confirm_needed")
            return _form(request, segment, segment.name, segment.rule, message, 400)
        await uow.segments.delete(segment.id)
        await uow.audit.record(
            viewer.actor,
            "segment.deleted",
            app.clock.now(),
            channel="web",
            name=segment.name,
            rule=segment.rule,
        )
        await uow.commit()
        name = segment.name
    return await list_segments(request, t(viewer.locale, "segment.deleted", name=name))


@cancelled_when_gone
async def count(request: web.Request) -> web.Response:
    """The live count (JSON): ``{"count": N, "text": …}`` or ``{"error": …}`` with the chat's
    words for what is wrong in the rule. A POST with the form token: the rule stays out of
    URLs and logs."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    rule = form_text(form, "rule").strip()[:MAX_RULE]
    if not rule:
        return web.json_response({"error": t(viewer.locale, "admin_segments.rule_empty")})
    async with app.uow.reading() as uow:  # the count holds no write lock while it runs
        try:
            size = await rule_size(uow, rule, app.clock.now(), app.settings.tz)
        except SegmentRuleError as error:
            return web.json_response({"error": t(viewer.locale, error.key, **error.params)})
    text = t(viewer.locale, "admin_segments.live_count", count=size)
    return web.json_response({"count": size, "text": text})
