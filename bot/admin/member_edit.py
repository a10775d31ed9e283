"""The member page's additions: tier progress, campaigns, inbox thread, and the tag and note
forms, which change a member through the chat's own rules (:mod:`shop.member_notes`, as
``/tag`` and ``/note`` do) with the staff member as the audit's actor.

A form for a member the viewer may not see (another branch's, or an erased one) gets the
page's 404, as the member page does, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.core.errors import InvalidInput, NotFound
from bot.i18n import t
from shop.console import Viewer
from shop.loyalty import loyalty_status
from shop.member_notes import add_note, change_tags, clean_note
from storage.console_member import campaigns_of, thread_of
from storage.models import Member
from storage.uow import UnitOfWork
from wording.campaigns import campaign_title
from wording.loyalty import tier_name

CHANNEL = "console"
_MAX_FORM = 2_000


def visible(member: Member | None, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see (and change) ``member``."""
    if member is None or member.erased_at is not None:
        return False
    return viewer.branch_id is None or member.home_branch_id == viewer.branch_id


async def member_extras(
    uow: UnitOfWork, member_id: int, locale: str, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """Values for ``member_extras.html``: tier progress, campaigns, inbox thread; and the tier
    the member holds (as /customer shows it, :func:`shop.loyalty.loyalty_status`)."""
    status = await loyalty_status(uow, member_id, now, tz)
    progress = None
    if status.next_tier is not None and status.next_tier.min_spend > 0:
        share = float(status.spend / status.next_tier.min_spend)
        progress = {
            "next": tier_name(locale, status.next_tier),
            "to_next": status.to_next,
            "percent": max(0, min(100, round(share * 100))),
        }
    campaigns = [
        (campaign_title(locale, c.name, c.kind), c) for c in await campaigns_of(uow, member_id)
    ]
    return {
        "tier": tier_name(locale, status.tier),
        "progress": progress,
        "spend": status.spend,
        "taken": campaigns,
        "thread": await thread_of(uow, member_id),
    }


def _text(form: Any, name: str) -> str:
    return form_text(form, name, _MAX_FORM)


async def _change(request: web.Request, field: str) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    member_id = int(request.match_info["member_id"][:18])
    typed = _text(await request.post(), field)
    now = app.clock.now()
    async with app.uow() as uow:
        if not visible(await uow.members.get(member_id), viewer):
            return _message(request, viewer, 404, t(viewer.locale, "admin.not_found"))
        try:
            if field == "tags":
                await change_tags(
                    uow, member_id, typed.split(), actor=viewer.actor, now=now, channel=CHANNEL
                )
            else:
                note = clean_note(typed)
                if not note:
                    return _message(
                        request, viewer, 400, t(viewer.locale, "admin_reports.note_empty")
                    )
                await add_note(
                    uow,
                    member_id,
                    note,
                    staff_id=viewer.staff_id,
                    actor=viewer.actor,
                    now=now,
                    channel=CHANNEL,
                )
        except InvalidInput as error:
            return _message(request, viewer, 400, t(viewer.locale, error.key, **error.params))
        except NotFound:  # erased as this was written
            return _message(request, viewer, 404, t(viewer.locale, "admin.not_found"))
        await uow.commit()
    raise web.HTTPSeeOther(f"/admin/members/{member_id}")


def _message(request: web.Request, viewer: Viewer, status: int, text: str) -> web.Response:
    return page(
        request,
        viewer,
        viewer.locale,
        "member_edit_error.html",
        status=status,
        title_key="admin.member_title",
        text=text,
        back=request.path.rsplit("/", 1)[0],
    )


async def tags(request: web.Request) -> web.Response:
    """POST /members/{id}/tags: ``+tag``, ``-tag`` or a bare tag (added), as ``/tag`` takes."""
    return await _change(request, "tags")


async def notes(request: web.Request) -> web.Response:
    """POST /members/{id}/notes: a note, as ``/note`` keeps it."""
    return await _change(request, "note")
