"""One-time staff invites: made by the CLI (``chatcrm staff invite``) or in the bot
(``/staff invite ROLE [BRANCH]``), used once by ``/claim CODE``.

A code is 16 characters of the unambiguous member-code alphabet (31 symbols, so about 79 bits
of randomness) written as four groups of four, ``K7QX-M2PA-9RTD-HW4C``: a person can read it
aloud and type it. Only its SHA-256 is stored. Dashes, spaces and case do not matter when it
is typed back.

Who may invite whom: the owner invites anyone, for any branch or for the whole shop; a manager
invites cashiers only, and only for their own branch (a manager without a branch works at every
branch and may choose one). Cashiers invite nobody (``/staff`` is a manager command).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.core.errors import DomainError, InvalidInput, NotAllowed
from bot.core.messages import Reply
from bot.i18n import format_date
from handlers.context import Context
from handlers.router import ROLES
from shop.inputs import thai_digits_to_ascii
from storage.models import Branch, Staff
from storage.repositories.members import CODE_ALPHABET
from storage.uow import UnitOfWork

GROUPS: Final = 4
GROUP_SIZE: Final = 4
DEFAULT_INVITE_DAYS: Final = 7
MAX_INVITE_DAYS: Final = 90
CLI_ACTOR: Final = "cli"
_SEPARATORS: Final = re.compile(r"[\s\-_.]+")

#: what people type for a role, in either language
ROLE_WORDS: Final = {
    "owner": "owner",
    "เจ้าของ": "owner",
    "manager": "manager",
    "ผู้จัดการ": "manager",
    "cashier": "cashier",
    "แคชเชียร์": "cashier",
    "พนักงาน": "cashier",
}


class UnknownBranch(DomainError):
    key = "error.unknown_branch"


def new_invite_code() -> str:
    """A fresh code, ``XXXX-XXXX-XXXX-XXXX`` (≈ 79 bits from :mod:`secrets`)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(GROUPS * GROUP_SIZE))
    return "-".join(chars[i : i + GROUP_SIZE] for i in range(0, len(chars), GROUP_SIZE))


def normalise_invite_code(text: str) -> str | None:
    """The canonical form of a typed code (any case, dashes or spaces anywhere), or None when
    it cannot be an invite code at all."""
    raw = _SEPARATORS.sub("", thai_digits_to_ascii(text)).upper()
    if len(raw) != GROUPS * GROUP_SIZE or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + GROUP_SIZE] for i in range(0, len(raw), GROUP_SIZE))


def parse_role(word: str) -> str:
    role = ROLE_WORDS.get(word.strip().casefold())
    if role is None:
        raise InvalidInput("error.unknown_role", role=word.strip()[:20])
    return role


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    role: str
    branch: Branch | None
    expires_at: datetime


async def issue_invite(
    uow: UnitOfWork,
    role: str,
    branch_code: str | None,
    created_by: str,
    now: datetime,
    days: int = DEFAULT_INVITE_DAYS,
    channel: str | None = None,
) -> IssuedInvite:
    """Create an invite (stored hashed) and audit ``staff.invited``; returns the plain code,
    which exists nowhere else. Raises :class:`UnknownBranch` for a branch code not in the shop
    and ``InvalidInput`` for an unknown role or a validity outside 1..90 days."""
    if role not in ROLES:
        raise InvalidInput("error.unknown_role", role=role[:20])
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise InvalidInput("error.invite_days", max=MAX_INVITE_DAYS)
    branch = None
    if branch_code:
        branch = await uow.branches.by_code(branch_code)
        if branch is None or not branch.active:
            raise UnknownBranch(code=branch_code[:32])
    code = new_invite_code()
    expires_at = now + timedelta(days=days)
    invite = await uow.staff.create_invite(
        code, role, branch.id if branch else None, created_by, now, expires_at
    )
    await uow.audit.record(
        created_by,
        "staff.invited",
        now,
        channel=channel,
        invite_id=invite.id,
        role=role,
        branch=branch.code if branch else None,
        expires_at=expires_at.isoformat(),
    )
    return IssuedInvite(code, role, branch, expires_at)


def may_invite(inviter: Staff, role: str, branch: Branch | None) -> bool:
    """The rule in this module's docstring."""
    if inviter.role == "owner":
        return True
    if inviter.role != "manager" or role != "cashier":
        return False
    return inviter.branch_id is None or (branch is not None and branch.id == inviter.branch_id)


def role_label(ctx: Context, role: str) -> str:
    return ctx.t(f"staff.role_{role}") if role in ROLES else role


def branch_label(ctx: Context, branch: Branch | None) -> str:
    if branch is None:
        return ctx.t("staff.all_branches")
    return branch.name_th if ctx.locale == "th" else branch.name_en


async def checked_invite(
    uow: UnitOfWork,
    inviter: Staff,
    role: str,
    branch_code: str | None,
    actor: str,
    now: datetime,
    channel: str | None,
) -> IssuedInvite:
    """An invite made by ``inviter`` (the chat's ``/staff invite`` and the console's form):
    a manager's cashier invite defaults to the manager's own branch; a closed or unknown
    branch and an invite the inviter may not make (:func:`may_invite`) are refused."""
    if branch_code is None and inviter.role == "manager" and inviter.branch_id is not None:
        own = await uow.branches.get(inviter.branch_id)
        branch_code = own.code if own is not None else None
    branch = await uow.branches.by_code(branch_code) if branch_code else None
    if branch_code and branch is None:
        raise UnknownBranch(code=branch_code[:32])
    if branch is not None and not branch.active:
        raise InvalidInput("branches.closed_choice", code=branch.code)
    if role not in ROLES:
        raise InvalidInput("error.unknown_role", role=role[:20])
    if not may_invite(inviter, role, branch):
        raise NotAllowed()
    return await issue_invite(uow, role, branch_code, actor, now, channel=channel)


async def invite_staff(ctx: Context) -> list[Reply]:
    """``/staff invite ROLE [BRANCH]`` (managers and owners, see the module docstring): replies
    with the code and a ready-to-forward ``/claim CODE`` line."""
    staff = ctx.staff
    assert staff is not None  # /staff is a manager command: the router checked
    words = ctx.args.split()[1:]  # after "invite"
    if not words or len(words) > 2:
        return [ctx.reply("staff.invite_usage")]
    role = parse_role(words[0])
    branch_code = words[1] if len(words) == 2 else None
    issued = await checked_invite(
        ctx.uow, staff, role, branch_code, ctx.actor, ctx.now, ctx.channel
    )
    expires = format_date(issued.expires_at.astimezone(ctx.settings.tz).date(), ctx.locale)
    return [
        ctx.reply(
            "staff.invite_created",
            role=role_label(ctx, role),
            branch=branch_label(ctx, issued.branch),
            expires=expires,
        ),
        Reply(text=f"/claim {issued.code}"),
    ]
