"""The console's staff page: the team, the open invites, a new invite, revoking one, removing
someone — the chat's ``/staff`` rules, called as they are (:mod:`handlers.staff.invites`,
:mod:`handlers.staff.invite_list`, :mod:`handlers.staff.team_changes`).

The owner sees and manages everyone; a manager sees their branch's team, invites cashiers for
their branch and removes cashiers. A new invite's code is shown once, on the answer to the POST
(never in a URL): only its hash is stored. Removing someone deactivates their row, which ends
their console sessions too.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from bot.admin.answers import done, done_word, form_text, not_found
from bot.admin.inbox import CHANNEL
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.core.errors import DomainError
from bot.i18n import t
from handlers.router import ROLES
from handlers.staff.invite_list import may_revoke, revoke_invite
from handlers.staff.invites import checked_invite
from handlers.staff.team_changes import LastOwner, Remover, can_remove, can_see, remove_staff
from shop.console import Viewer
from storage.models import Staff
from storage.uow import UnitOfWork

LOCATION: Final = "/admin/staff"


async def _me(uow: UnitOfWork, viewer: Viewer) -> Staff:
    staff = await uow.staff.get(viewer.staff_id)
    assert staff is not None  # the session middleware checked the row a moment ago
    return staff


def _roles(me: Staff) -> tuple[str, ...]:
    """The roles ``me`` may invite, the least powerful first (the form's default)."""
    return tuple(reversed(ROLES)) if me.role == "owner" else ("cashier",)


async def _page_values(uow: UnitOfWork, viewer: Viewer, now: Any) -> dict[str, Any]:
    me = await _me(uow, viewer)
    team = [s for s in await uow.staff.active() if can_see(me, s)]
    invites = [i for i in await uow.staff.outstanding_invites(now) if may_revoke(me, i)]
    branches = {b.id: b for b in await uow.branches.every()}
    choices = [b for b in branches.values() if b.active and (me.branch_id in (None, b.id))]
    return {
        "team": team,
        "invites": invites,
        "branches": branches,
        "branch_choices": choices,
        "roles": _roles(me),
        "all_branches_allowed": me.role == "owner" or me.branch_id is None,
        "removable": {s.id for s in team if s.id != me.id and can_remove(me, s)},
    }


async def _render(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        values = await _page_values(uow, viewer, app.clock.now())
    return page(
        request,
        viewer,
        viewer.locale,
        "staff.html",
        status=status,
        title_key="admin_staff.title",
        **{"done": done_word(request), "issued": None, "error": None, **values, **extra},
    )


async def team(request: web.Request) -> web.Response:
    return await _render(request)


async def invite(request: web.Request) -> web.Response:
    """Make an invite; the answer shows its ``/claim`` line once."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    role, branch = form_text(form, "role", 20), form_text(form, "branch", 32).strip()
    try:
        async with app.uow() as uow:
            issued = await checked_invite(
                uow,
                await _me(uow, viewer),
                role,
                branch or None,
                viewer.actor,
                app.clock.now(),
                CHANNEL,
            )
            await uow.commit()
    except DomainError as error:
        return await _render(request, status=400, error=t(viewer.locale, error.key, **error.params))
    return await _render(request, issued=issued)


async def revoke(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    invite_id = int(request.match_info["invite_id"][:12])
    try:
        async with app.uow() as uow:
            me = await _me(uow, viewer)
            ended = await revoke_invite(uow, me, invite_id, viewer.actor, app.clock.now(), CHANNEL)
            await uow.commit()
    except DomainError:
        return not_found(request)  # someone else's invite: as if it did not exist
    if not ended:
        return not_found(request)
    return done(LOCATION, "revoked")


async def confirm_remove(request: web.Request) -> web.Response:
    """A page that asks before removing (no script: the confirmation is a page)."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        me = await _me(uow, viewer)
        target = await uow.staff.get(int(request.match_info["staff_id"][:12]))
    if target is None or not target.active or not can_remove(me, target):
        return not_found(request)
    return page(
        request,
        viewer,
        viewer.locale,
        "staff_remove.html",
        title_key="admin_staff.remove_title",
        target=target,
    )


async def remove(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    staff_id = int(request.match_info["staff_id"][:12])
    now = app.clock.now()
    try:
        async with app.uow() as uow:
            me = await _me(uow, viewer)
            by = Remover(me, viewer.actor, CHANNEL, now, app.settings.locale)
            removed = await remove_staff(uow, by, staff_id)
            await uow.commit()
    except LastOwner as error:
        return await _render(request, status=400, error=t(viewer.locale, error.key))
    except DomainError:
        return not_found(request)
    if removed is None:
        return not_found(request)
    return done(LOCATION, "removed")
