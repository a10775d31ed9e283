"""The statements of the CSV import (:mod:`bot.importing`): batch look-ups and bulk writes.

The import parses, checks and reports; the reading and writing of each batch is here, on the
connection the import drives (one transaction per batch, :mod:`bot.importing.run`). Every
look-up takes a whole batch of keys in one query (:func:`storage.bulk.sql.is_among`), every
write is one bulk insert (:func:`storage.bulk.bulk_insert`) or one executemany, so a batch is a
handful of statements whatever its size. Rows to insert are given as the bulk path takes them,
column name to value: which values a new member or an imported sale gets is the import's
decision.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import Row, bulk_insert
from storage.bulk.sql import is_among, reserve_ids
from storage.models import Branch, Member, MemberNote, MemberTag, Sale, table_of

_BRANCHES: Final = table_of(Branch)
_MEMBERS: Final = table_of(Member)
_TAGS: Final = table_of(MemberTag)
_NOTES: Final = table_of(MemberNote)
_SALES: Final = table_of(Sale)


async def branch_names(connection: AsyncConnection) -> list[tuple[int, str, str, str]]:
    """Every branch as (id, code, Thai name, English name)."""
    rows = await connection.execute(
        select(_BRANCHES.c.id, _BRANCHES.c.code, _BRANCHES.c.name_th, _BRANCHES.c.name_en)
    )
    return [(int(branch_id), code, name_th, name_en) for branch_id, code, name_th, name_en in rows]


async def branch_ids(connection: AsyncConnection) -> list[int]:
    """The ids of every branch."""
    result = await connection.execute(select(_BRANCHES.c.id))
    return [int(branch_id) for branch_id in result.scalars()]


async def members_by_phone(
    connection: AsyncConnection, phones: Collection[str]
) -> dict[str, Mapping[str, Any]]:
    """The stored columns (by name) of the members with these phones, by phone."""
    found = await connection.execute(
        select(_MEMBERS).where(is_among(connection, _MEMBERS.c.phone, phones))
    )
    # a row's mapping is keyed by column name (and by column object, which nobody here uses)
    return {str(member.phone): cast(Mapping[str, Any], member._mapping) for member in found}


async def taken_member_codes(connection: AsyncConnection, codes: Collection[str]) -> set[str]:
    """Those of ``codes`` a member already has."""
    result = await connection.execute(
        select(_MEMBERS.c.member_code).where(is_among(connection, _MEMBERS.c.member_code, codes))
    )
    return set(result.scalars())


async def new_member_ids(connection: AsyncConnection, count: int) -> list[int]:
    """``count`` unused member ids for :func:`insert_members` in this transaction (COPY returns
    no ids, and the new members' ledger entries point at them)."""
    return await reserve_ids(connection, _MEMBERS, count)


async def insert_members(connection: AsyncConnection, members: Sequence[Row]) -> None:
    """Insert ``members`` (column name to value, ids from :func:`new_member_ids`)."""
    await bulk_insert(connection, _MEMBERS, members)


async def fill_empty(connection: AsyncConnection, field: str, values: Mapping[int, object]) -> None:
    """Set ``field`` of each member id in ``values`` to its value where it is still empty (NULL):
    one executemany. An erased member's fields are empty too, and stay so: on PostgreSQL an
    erasure committing meanwhile is waited for and its row checked again, so nothing comes back."""
    if not values:
        return
    column = _MEMBERS.c[field]
    await connection.execute(
        update(_MEMBERS)
        .where(
            _MEMBERS.c.id == bindparam("member"), column.is_(None), _MEMBERS.c.erased_at.is_(None)
        )
        .values({field: bindparam("value")}),
        [{"member": member_id, "value": value} for member_id, value in values.items()],
    )


async def tags_of(connection: AsyncConnection, member_ids: Collection[int]) -> set[tuple[int, str]]:
    """(member id, tag) of every tag these members have."""
    result = await connection.execute(
        select(_TAGS.c.member_id, _TAGS.c.tag).where(
            is_among(connection, _TAGS.c.member_id, member_ids)
        )
    )
    return {(int(member_id), str(tag)) for member_id, tag in result}


async def add_tags(
    connection: AsyncConnection, tags: Iterable[tuple[int, str]], now: datetime
) -> None:
    """Give each member id its tag (pairs the member does not have yet), tagged ``now``."""
    rows = [{"member_id": member_id, "tag": tag, "created_at": now} for member_id, tag in tags]
    if rows:
        await bulk_insert(connection, _TAGS, rows)


async def add_notes(
    connection: AsyncConnection, notes: Iterable[tuple[int, str]], now: datetime
) -> None:
    """A staff note per (member id, text), written ``now``."""
    rows = [{"member_id": member_id, "text": text, "created_at": now} for member_id, text in notes]
    if rows:
        await bulk_insert(connection, _NOTES, rows)


async def stored_receipts(
    connection: AsyncConnection, receipts: Collection[str]
) -> dict[tuple[str, int], tuple[int | None, Decimal]]:
    """The member id (None once erased) and amount of each of ``receipts`` already recorded
    as a sale, by (receipt number, branch id): each branch's till numbers its own."""
    columns = _SALES.c.receipt_no, _SALES.c.branch_id, _SALES.c.member_id, _SALES.c.amount
    stored = await connection.execute(
        select(*columns).where(is_among(connection, _SALES.c.receipt_no, receipts))
    )
    return {
        (str(receipt), int(branch_id)): (
            None if member_id is None else int(member_id),
            Decimal(amount),
        )
        for receipt, branch_id, member_id, amount in stored
    }


async def member_ids_by_phone(
    connection: AsyncConnection, phones: Collection[str]
) -> dict[str, int]:
    """The id of the member with each of ``phones`` that one has, by phone."""
    result = await connection.execute(
        select(_MEMBERS.c.phone, _MEMBERS.c.id).where(
            is_among(connection, _MEMBERS.c.phone, phones)
        )
    )
    return {str(phone): int(member_id) for phone, member_id in result}


async def member_ids_by_code(connection: AsyncConnection, codes: Collection[str]) -> dict[str, int]:
    """The id of the member (not erased) with each of ``codes`` that one has, by code."""
    result = await connection.execute(
        select(_MEMBERS.c.member_code, _MEMBERS.c.id).where(
            is_among(connection, _MEMBERS.c.member_code, codes),
            _MEMBERS.c.erased_at.is_(None),
        )
    )
    return {str(code): int(member_id) for code, member_id in result}


async def new_sale_ids(connection: AsyncConnection, count: int) -> list[int]:
    """``count`` unused sale ids for :func:`insert_sales` in this transaction (their points
    entries point at them)."""
    return await reserve_ids(connection, _SALES, count)


async def insert_sales(connection: AsyncConnection, sales: Sequence[Row]) -> None:
    """Insert ``sales`` (column name to value, ids from :func:`new_sale_ids`)."""
    await bulk_insert(connection, _SALES, sales)


async def referred_member_ids(
    connection: AsyncConnection, member_ids: Collection[int]
) -> list[int]:
    """Those of ``member_ids`` who joined with a friend's code and are not erased: the members
    an imported first purchase may owe a referral bonus."""
    result = await connection.execute(
        select(_MEMBERS.c.id)
        .where(
            is_among(connection, _MEMBERS.c.id, member_ids),
            _MEMBERS.c.referred_by_code.is_not(None),
            _MEMBERS.c.erased_at.is_(None),
        )
        .order_by(_MEMBERS.c.id)
    )
    return [int(member_id) for member_id in result.scalars()]
