"""The guard every writer of a member's own data takes before writing it: the member's row held
to the commit, and the member refused when erased.

An erasure locks the member's row first (``FOR UPDATE``, ``storage.repositories.erasure``), so
on PostgreSQL a writer that read the member before the erasure committed would otherwise write
a name, a chat account or a consent back onto the erased row once it commits (READ COMMITTED;
SQLite's ``BEGIN IMMEDIATE`` already runs one writer at a time). Held here, the erasure in
progress is waited for and then seen, and one that comes later waits for this writer's commit
and then clears what it wrote with the rest.
"""

from __future__ import annotations

from bot.core.errors import Conflict
from storage.uow import UnitOfWork


class MemberGone(Conflict):
    """The member was erased (a moment ago, while this was under way): nothing is written."""

    key = "error.member_erased"


async def hold_member(uow: UnitOfWork, member_id: int) -> None:
    """Hold the member's row until this unit of work ends; raises :class:`MemberGone` (the
    caller's writes are then undone) when the member is erased, also by an erasure still in
    progress (waited for)."""
    if not await uow.members.hold_unerased(member_id):
        raise MemberGone()
