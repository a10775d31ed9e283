"""The shop's branches as the owner manages them: add, rename, close and reopen.

A branch code is what staff type (``/sale … branch=asoke``), what segments name
(``branch in (asoke, siam)``) and what imports match, so it is a short slug: 2–20 lowercase
ASCII letters, digits and hyphens, starting with a letter or digit. Names are for display; the
Thai one is required, the English one falls back to it. A closed branch keeps its sales, staff
and members (its history stays whole) and is no longer offered as a choice anywhere. Every
change is audited with what was before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.core.errors import Conflict, InvalidInput, NotFound
from storage.models import Branch
from storage.uow import UnitOfWork

CODE_MIN: Final = 2
CODE_MAX: Final = 20
NAME_MAX: Final = 100
_CODE: Final = re.compile(rf"[a-z0-9][a-z0-9-]{{{CODE_MIN - 1},{CODE_MAX - 1}}}")


@dataclass(frozen=True, slots=True)
class BranchView:
    id: int
    code: str
    name_th: str
    name_en: str
    is_open: bool


def _view(branch: Branch) -> BranchView:
    return BranchView(branch.id, branch.code, branch.name_th, branch.name_en, branch.active)


def parse_code(text: str) -> str:
    """A valid branch code (case folded) or ``InvalidInput('branches.bad_code')``."""
    code = text.strip().lower()
    if not _CODE.fullmatch(code):
        raise InvalidInput("branches.bad_code", low=CODE_MIN, high=CODE_MAX)
    return code


def parse_name(text: str) -> str:
    """A display name: 1..100 characters, inner whitespace folded."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX:
        raise InvalidInput("branches.bad_name", max=NAME_MAX)
    return name


async def list_branches(uow: UnitOfWork) -> list[BranchView]:
    return [_view(branch) for branch in await uow.branches.every()]


async def find(uow: UnitOfWork, code: str) -> BranchView:
    return _view(await _existing(uow, code))


async def _existing(uow: UnitOfWork, code: str) -> Branch:
    branch = await uow.branches.by_code(code.strip())
    if branch is None:
        raise NotFound("branches.unknown", code=code.strip()[:32])
    return branch


async def add_branch(
    uow: UnitOfWork,
    code: str,
    name_th: str,
    name_en: str | None,
    actor: str,
    now: datetime,
    channel: str | None = None,
) -> BranchView:
    """A new open branch; ``Conflict('branches.duplicate')`` when the code is taken (closed
    branches included: their code stays theirs, as their history names it)."""
    code, name_th = parse_code(code), parse_name(name_th)
    name_en = parse_name(name_en) if name_en and name_en.strip() else name_th
    if await uow.branches.by_code(code) is not None:
        raise Conflict("branches.duplicate", code=code)
    branch = await uow.branches.add(code, name_th, name_en)
    if branch is None:  # added by another request since the look-up (a double click)
        raise Conflict("branches.duplicate", code=code)
    after = {"code": code, "name_th": name_th, "name_en": name_en, "open": True}
    await uow.audit.record(
        actor, "branch.added", now, channel=channel, branch=code, before=None, after=after
    )
    return _view(branch)


async def rename_branch(
    uow: UnitOfWork,
    code: str,
    name_th: str,
    name_en: str | None,
    actor: str,
    now: datetime,
    channel: str | None = None,
) -> BranchView:
    branch = await _existing(uow, code)
    name_th = parse_name(name_th)
    name_en = parse_name(name_en) if name_en and name_en.strip() else name_th
    before = {"name_th": branch.name_th, "name_en": branch.name_en}
    await uow.branches.rename(branch, name_th, name_en)
    after = {"name_th": name_th, "name_en": name_en}
    await uow.audit.record(
        actor,
        "branch.renamed",
        now,
        channel=channel,
        branch=branch.code,
        before=before,
        after=after,
    )
    return _view(branch)


async def set_open(
    uow: UnitOfWork,
    code: str,
    is_open: bool,
    actor: str,
    now: datetime,
    channel: str | None = None,
) -> BranchView:
    """Close or reopen a branch (doing what is already so changes and audits nothing).
    Closing it revokes the open staff invites to it (audited ``staff.invite_revoked``, reason
    ``branch_closed``): a code handed out earlier would make staff of a branch that can no
    longer sell or redeem; reopening does not bring them back."""
    branch = await _existing(uow, code)
    if not is_open and branch.active:
        for invite_id in await uow.staff.revoke_invites(now, branch_id=branch.id):
            await uow.audit.record(
                actor,
                "staff.invite_revoked",
                now,
                channel=channel,
                invite_id=invite_id,
                reason="branch_closed",
            )
    if branch.active != is_open:
        before = {"open": branch.active}
        await uow.branches.set_open(branch, is_open)
        action = "branch.reopened" if is_open else "branch.closed"
        await uow.audit.record(
            actor,
            action,
            now,
            channel=channel,
            branch=branch.code,
            before=before,
            after={"open": is_open},
        )
    return _view(branch)
