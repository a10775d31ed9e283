"""Who may use the web console and for how long: sign-in links sent in the chat, sessions.

No password to manage: an owner or manager asks the chat for a link (``/dashboard``); it works
once, for :data:`LINK_TTL`, and a staff member may ask for :data:`LINK_THROTTLE`'s number of
links per window (a leaked chat account cannot mint links in bulk). Opening it starts a
session that lapses after :data:`IDLE` without a request and after :data:`MAX_AGE` in any case.

A session is checked against the staff row on every request: a staff member removed, or
whose role or branch changed, is signed out (``StaffMembers.deactivate`` and ``add`` also
delete the sessions; the check covers any path that forgets to).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from shop.throttle import Throttle, locked_until
from storage.models import ConsoleSession, Staff
from storage.uow import UnitOfWork

LINK_TTL: Final = timedelta(minutes=10)
IDLE: Final = timedelta(minutes=30)
MAX_AGE: Final = timedelta(hours=12)
ISSUED: Final = "console.link_issued"
LINK_THROTTLE: Final = Throttle(actions=(ISSUED,), limit=5, window=timedelta(minutes=10))
#: the roles with a console (a cashier works at the counter, in the chat)
CONSOLE_ROLES: Final = ("owner", "manager")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in staff member as the console sees them on one request."""

    staff_id: int
    name: str
    role: str
    #: None: every branch (an owner, or a manager of the whole shop)
    branch_id: int | None
    locale: str
    csrf: str

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"


def may_use_console(staff: Staff | None) -> bool:
    return staff is not None and staff.active and staff.role in CONSOLE_ROLES


async def issue_link(uow: UnitOfWork, staff: Staff, locale: str, now: datetime) -> str | None:
    """A new sign-in token for ``staff`` (the caller makes the URL); None while throttled."""
    if not may_use_console(staff):
        return None
    actor = f"staff:{staff.id}"
    if await locked_until(uow, LINK_THROTTLE, actor, now) is not None:
        return None
    token = secrets.token_urlsafe(32)
    await uow.console.add_link(token, staff.id, locale, now, now + LINK_TTL)
    await uow.audit.record(actor, ISSUED, now, staff_id=staff.id)
    return token


def _viewer(staff: Staff, row: ConsoleSession) -> Viewer:
    return Viewer(staff.id, staff.name, row.role, row.branch_id, row.locale, row.csrf)


async def sign_in(uow: UnitOfWork, token: str, now: datetime) -> tuple[str, Viewer] | None:
    """Use the link ``token`` and start a session: (the session id for the cookie, who);
    None when the link is unknown, used, expired, or its staff member may no longer sign in."""
    link = await uow.console.use_link(token, now)
    if link is None:
        return None
    staff = await uow.staff.get(link.staff_id)
    if staff is None or not may_use_console(staff):
        return None
    session_id = secrets.token_urlsafe(32)
    row = await uow.console.start(
        session_id,
        link,
        staff.role,
        staff.branch_id,
        secrets.token_urlsafe(32),
        now,
        min(now + IDLE, now + MAX_AGE),
    )
    await uow.audit.record(f"staff:{staff.id}", "console.signed_in", now, staff_id=staff.id)
    return session_id, _viewer(staff, row)


async def resume(uow: UnitOfWork, session_id: str, now: datetime) -> Viewer | None:
    """The viewer of a session cookie, its idle time restarted; None (and the session ended)
    when it lapsed or its staff member was removed or changed role or branch."""
    row = await uow.console.get(session_id)
    if row is None:
        return None
    staff = await uow.staff.get(row.staff_id)
    current = staff is not None and (staff.role, staff.branch_id) == (row.role, row.branch_id)
    if row.expires_at <= now or not current or not may_use_console(staff):
        await uow.console.end(session_id)
        return None
    assert staff is not None
    await uow.console.touch(row, now, min(now + IDLE, row.created_at + MAX_AGE))
    return _viewer(staff, row)


async def sign_out(uow: UnitOfWork, session_id: str, viewer: Viewer, now: datetime) -> None:
    await uow.console.end(session_id)
    await uow.audit.record(viewer.actor, "console.signed_out", now, staff_id=viewer.staff_id)
