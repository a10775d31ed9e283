"""A campaign's hold-out draw, once: in Python (an automation enrolling member by member) and in
SQL (a launch enrolling its audience set-based), giving the same members on SQLite and
PostgreSQL.

A member is held out of campaign ``c`` at ``pct`` percent when the first 8 bytes of
``sha256("c:member")``, read as an unsigned big-endian integer, are below ``pct * 100`` modulo
10,000. PostgreSQL computes it with its own ``sha256()``; SQLite calls :func:`holdout_bucket`,
registered on every connection (:func:`register_sqlite_functions`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from sqlalchemy import BigInteger, String, case, cast, false, func, literal
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.sql.elements import ColumnElement

#: the draw's buckets: ``pct`` percent is ``pct * 100`` of them
BUCKETS: Final = 10_000
#: 2**64 modulo BUCKETS: what a negative signed 64-bit value is short of its unsigned one
_WRAP: Final = 2**64 % BUCKETS
SQLITE_BUCKET: Final = "chatcrm_holdout_bucket"


def holdout_bucket(campaign_id: int, member_id: int) -> int:
    """The member's bucket in the campaign's draw, 0 to 9,999."""
    digest = hashlib.sha256(f"{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_holdout(campaign_id: int, member_id: int, pct: int) -> bool:
    """Deterministic: the same member of the same campaign is always on the same side."""
    return holdout_bucket(campaign_id, member_id) < pct * 100


def held_sql(dialect: str, campaign_id: int, member_id: Any, pct: int) -> ColumnElement[bool]:
    """:func:`in_holdout` as a SQL expression over the column ``member_id``."""
    if pct <= 0:
        return false()
    return bucket_sql(dialect, campaign_id, member_id) < pct * 100


def bucket_sql(dialect: str, campaign_id: int, member_id: Any) -> ColumnElement[int]:
    """:func:`holdout_bucket` as a SQL expression over the column ``member_id``."""
    if dialect != "postgresql":
        bucket: ColumnElement[int] = getattr(func, SQLITE_BUCKET)(campaign_id, member_id)
        return bucket
    text = literal(f"{campaign_id}:", String) + cast(member_id, String)
    first8 = func.substring(func.sha256(func.convert_to(text, literal("UTF8"))), 1, 8)
    signed = cast(
        cast(literal("x", String) + func.encode(first8, literal("hex")), BIT(64)), BigInteger
    )
    # PostgreSQL has no unsigned bigint: a value with its top bit set reads 2**64 too low, and
    # its ``mod`` keeps the dividend's sign (in (-BUCKETS, 0] for a negative one)
    unsigned = func.mod(func.mod(signed, BUCKETS) + BUCKETS + _WRAP, BUCKETS)
    return case((signed < 0, unsigned), else_=func.mod(signed, BUCKETS))


def register_sqlite_functions(connection: Any) -> None:
    """The draw on a new SQLite connection (deterministic: the same arguments, the same
    bucket, so SQLite may evaluate it once)."""
    connection.create_function(SQLITE_BUCKET, 2, holdout_bucket, deterministic=True)
