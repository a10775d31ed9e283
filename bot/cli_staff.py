"""``chatcrm staff invite --role owner|manager|cashier [--branch CODE] [--days N]``.

Prints a short explanation and then the invite code alone on the last line, so a script can
take it with ``tail -n 1``. The code is shown once and stored only as a hash; the invite is
audited as ``staff.invited`` by the actor ``cli``. This is how a new shop gets its first owner.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.errors import CommandError
from handlers.router import ROLES
from handlers.staff.invites import (
    CLI_ACTOR,
    DEFAULT_INVITE_DAYS,
    MAX_INVITE_DAYS,
    UnknownBranch,
    issue_invite,
)

if TYPE_CHECKING:  # the app (and every handler) is imported only when the command runs
    from bot.bootstrap import App


class InviteError(CommandError):
    """The invite cannot be made as asked (an unknown branch); the message says why."""


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_INVITE_DAYS} days")
    return days


def add_parser(commands: Any, command: Any) -> None:
    """Add ``staff invite`` to the top-level subparsers (``command`` is cli's helper)."""
    staff = commands.add_parser("staff", help="staff accounts")
    actions = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    invite = command(
        "invite", run_invite, "print a one-time staff invite code (last line)", at=actions
    )
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.add_argument("--branch", metavar="CODE", help="limit the account to one branch")
    invite.add_argument(
        "--days",
        type=_days,
        default=DEFAULT_INVITE_DAYS,
        help=f"days the code stays valid (default {DEFAULT_INVITE_DAYS})",
    )


async def invite_lines(app: App, role: str, branch_code: str | None, days: int) -> list[str]:
    """Create the invite and return what to print, the code alone last."""
    now = app.clock.now()
    async with app.uow() as uow:
        try:
            issued = await issue_invite(uow, role, branch_code, CLI_ACTOR, now, days)
        except UnknownBranch:
            closed = await uow.branches.by_code(branch_code) if branch_code else None
            if closed is not None:
                raise InviteError(f"branch {closed.code!r} is closed (reopen it first)") from None
            known = ", ".join(b.code for b in await uow.branches.active()) or "none yet"
            raise InviteError(f"unknown branch {branch_code!r} (branches: {known})") from None
        await uow.commit()
    where = f"branch {issued.branch.code}" if issued.branch is not None else "all branches"
    until = issued.expires_at.astimezone(app.settings.tz).strftime("%Y-%m-%d %H:%M %Z")
    return [
        f"One-time invite for a {role} ({where}), valid until {until}.",
        "The new staff member sends /claim followed by this code to the bot",
        "(in a private chat on Telegram, LINE or the console). It works once.",
        issued.code,
    ]


async def run_invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from storage.sqlite_file import missing_shop_file

    # The first owner's invite makes the shop (the README's first step), so a missing file is
    # not refused; it is named, so that a wrong path shows before anyone claims the code.
    created = missing_shop_file(settings.database_url)
    app = await bootstrap(settings)
    try:
        lines = await invite_lines(app, args.role, args.branch, args.days)
    finally:
        await app.close()
    if created is not None:
        print(f"New, empty shop created at {created} (CHATCRM_DATABASE_URL).")
    for line in lines:
        print(line)
    return 0
