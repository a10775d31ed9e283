"""The member a completed sign-up writes, in as few statements as the guarantees allow.

A sign-up's last step used to read the number's holder, take a savepoint, check the drawn
member code, insert the member, link the chat account, write each consent, look up a welcome
key nobody can have used: each its own trip, while the step's transaction held its locks.
Here the member is written by one ``INSERT … SELECT`` that decides from the table itself
whether the number is free (linked) or held by another member (kept unlinked), and writes
nothing when the drawn code is taken or a sign-up with the same number committed meanwhile
(``ON CONFLICT DO NOTHING``; PostgreSQL waits for that transaction first): the caller then
takes the careful way (a savepoint and the reads) for that rare case. On PostgreSQL the chat
account's link and both consents go in the same statement, as CTEs reading the new row; on
SQLite they travel with the next statement (``storage/direct.py``). Never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    Boolean,
    Select,
    String,
    bindparam,
    case,
    exists,
    false,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert

from bot.core.errors import Conflict
from storage import direct
from storage.models import Consent, Member, table_of
from storage.repositories.arrival import IDENTITIES
from storage.repositories.members import new_member_code

_MEMBERS: Final = table_of(Member)
_CONSENTS: Final = table_of(Consent)
#: the columns a new member is written with (every column but its id)
_MEMBER_COLUMNS: Final = tuple(c.key for c in _MEMBERS.c if c.key != "id")
#: decided by the statement from whether another member holds the number
_BY_HOLDER: Final = ("phone", "phone_unlinked", "phone_verified")
_CONSENT_COLUMNS: Final = ("purpose", "granted", "wording_version", "channel", "recorded_at")
#: the chat account's link to its new member (SQLite: sent along with the next statement)
_LINK: Final = (
    update(IDENTITIES)
    .where(IDENTITIES.c.id == bindparam("identity_id", type_=IDENTITIES.c.id.type))
    .values(member_id=bindparam("linked_member", type_=IDENTITIES.c.member_id.type))
)


class Joined(NamedTuple):
    """What :func:`add_member` wrote: the member (the session's, every column loaded) and
    whether the number was kept unlinked because another member holds it."""

    member: Member
    held: bool


def _param(key: str) -> Any:
    return bindparam(key, type_=_MEMBERS.c[key].type)


def _member_rows(*also: ColumnElement[bool]) -> Select[Any]:
    """The one row to insert: the member's values, its number linked unless another member
    holds it; no row when the drawn member code is taken (or one of ``also`` is false)."""
    phone = _param("phone")
    held = exists().where(_MEMBERS.c.phone == phone)
    chosen = {
        "phone": case((held, literal(None, String)), else_=phone),
        "phone_unlinked": case((held, phone), else_=literal(None, String)),
        "phone_verified": case((held, false()), else_=bindparam("verified", type_=Boolean)),
    }
    columns = [chosen[key] if key in chosen else _param(key) for key in _MEMBER_COLUMNS]
    code_taken = exists().where(_MEMBERS.c.member_code == _param("member_code"))
    return select(*columns).where(~code_taken, *also)


@cache
def _insert_member(dialect: str) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_MEMBERS)
        .from_select(list(_MEMBER_COLUMNS), _member_rows())
        .on_conflict_do_nothing()
        .returning(_MEMBERS.c.id, _MEMBERS.c.phone)
    )


def _given(n: int) -> list[Any]:
    """The values of a sign-up's ``n``-th consent, named ``<column>_<n>``."""
    return [bindparam(f"{key}_{n}", type_=_CONSENTS.c[key].type) for key in _CONSENT_COLUMNS]


#: SQLite: both consents in one INSERT (sent along with the next statement)
_CONSENTS_OF: Final = _CONSENTS.insert().values(
    [
        dict(zip(("member_id", *_CONSENT_COLUMNS), [_param("id"), *_given(n)], strict=True))
        for n in (0, 1)
    ]
)


@cache
def _pg_join() -> Select[Any]:
    """PostgreSQL: the member, the chat account's link and both consents in one statement,
    written only while the chat account, locked first, has no member. Another event of the
    same chat at this step in a transaction of its own (a double tap) holds that lock until it
    commits; this one then finds the account linked and writes nothing. Its one row: the new
    member's id and number (NULL when nothing was written) and whether the account was free."""
    free = (
        select(IDENTITIES.c.id)
        .where(
            IDENTITIES.c.id == bindparam("identity_id", type_=IDENTITIES.c.id.type),
            IDENTITIES.c.member_id.is_(None),
        )
        .with_for_update()
        .cte("free")
    )
    is_free = exists(select(free.c.id))
    new = (
        pg_insert(_MEMBERS)
        .from_select(list(_MEMBER_COLUMNS), _member_rows(is_free))
        .on_conflict_do_nothing()
        .returning(_MEMBERS.c.id, _MEMBERS.c.phone)
        .cte("new")
    )
    new_id = select(new.c.id).scalar_subquery()
    link = (
        update(IDENTITIES)
        .where(
            IDENTITIES.c.id == bindparam("identity_id", type_=IDENTITIES.c.id.type),
            new_id.is_not(None),
        )
        .values(member_id=new_id)
        .cte("linked")
    )
    rows = union_all(*(select(new.c.id, *_given(n)) for n in (0, 1)))
    given = _CONSENTS.insert().from_select(["member_id", *_CONSENT_COLUMNS], rows)
    phone = select(new.c.phone).scalar_subquery()
    return select(new_id, phone, is_free).add_cte(link, given.cte("given"))


def _consent_values(consents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for n, consent in enumerate(consents):
        found |= {f"{key}_{n}": consent[key] for key in _CONSENT_COLUMNS}
    return found


async def add_member(
    session: AsyncSession,
    member: Member,
    identity_id: int,
    consents: Sequence[Mapping[str, Any]],
) -> Joined | None:
    """Write ``member`` (its number in ``phone``) with a member code drawn here, link the chat
    account ``identity_id`` to it and record ``consents`` (two: ``purpose``, ``granted``,
    ``wording_version``, ``channel``, ``recorded_at``); None, and nothing written, when the
    code is taken or another member's row with the number was committed meanwhile (the caller
    then writes it the careful way). ``member`` joins the session as the stored row.

    On PostgreSQL a chat account that got its member meanwhile (another event of it at this
    step, committed while this one waited for its lock) is refused: :class:`Conflict`
    ``signup.joined_meanwhile``, and the event's writes are undone as any refusal's. On SQLite
    the write lock orders the two, and the second event already arrives as a member's."""
    member.member_code = new_member_code()
    phone = member.phone
    verified = bool(member.phone_verified)
    member.points_balance = member.points_balance or 0  # loaded as written, not as defaulted
    params = {key: getattr(member, key) for key in _MEMBER_COLUMNS if key not in _BY_HOLDER}
    params |= {"phone": phone, "verified": verified}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = _pg_join()
        params |= {"identity_id": identity_id} | _consent_values(consents)
    else:
        statement = _insert_member(dialect)
    found = (await session.execute(statement, params)).first()
    if dialect == "postgresql":
        assert found is not None  # one row, always
        member_id, stored_phone, free = found
        if not free:
            raise Conflict("signup.joined_meanwhile")
    else:
        member_id, stored_phone = found if found is not None else (None, None)
    if member_id is None:
        return None
    held = stored_phone is None
    if held:
        member.phone, member.phone_unlinked, member.phone_verified = None, phone, False
    member.id = member_id
    make_transient_to_detached(member)
    session.add(member)  # persistent as written: nothing left to flush
    if dialect != "postgresql":
        await direct.write(session, _LINK, {"identity_id": identity_id, "linked_member": member_id})
        await direct.write(session, _CONSENTS_OF, {"id": member_id} | _consent_values(consents))
    return Joined(member, held)
