"""An outbox row's values as :meth:`Outbox.enqueue` writes them, and the statement that writes
one to a member's preferred chat account.

A notice to a member (a receipt, a redeemed coupon, a referral bonus) used to read the member's
chat account, then insert the row: two statements, each a trip while the event's transaction
holds its locks. :func:`to_member` is one ``INSERT … SELECT``: the account (reachable, seen
last) is chosen by the statement itself, and nothing is written when the member has none or
the key was queued before (``ON CONFLICT DO NOTHING``, as :meth:`Outbox.enqueue`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage import direct
from storage.models import ChannelIdentity, OutboxMessage, table_of
from storage.repositories import outbox_statements as statements
from storage.repositories.outbox_reads import PENDING

MAX_KEY_LENGTH: Final = 128  # the column's size; PostgreSQL would refuse a longer key

_OUTBOX: Final = table_of(OutboxMessage)
_IDENTITIES: Final = table_of(ChannelIdentity)
#: the columns the statement takes from the chosen chat account
_FROM_ACCOUNT: Final = ("channel", "user_id")


def new_row(
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    member_id: int | None,
    promotional: bool = False,
    not_before: datetime | None = None,
    priority: int = 0,
    status: str = PENDING,
    error: str | None = None,
    retry_key: str | None = None,
) -> dict[str, Any]:
    """Every column of a new row but its id and its recipient (``channel``, ``user_id``);
    ``retry_key`` is the key its sends were made with before it was queued (else a new one)."""
    if not 0 < len(dedupe_key) <= MAX_KEY_LENGTH:
        raise ValueError(f"dedupe_key must be 1..{MAX_KEY_LENGTH} characters: {dedupe_key!r}")
    return {
        "dedupe_key": dedupe_key,
        "member_id": member_id,
        "promotional": promotional,
        "payload": payload,
        "status": status,
        "attempts": 0 if status == PENDING else 1,
        "retry_key": retry_key or str(uuid.uuid4()),
        "not_before": not_before or now,
        "created_at": now,
        "priority": priority,
        "error": statements.clip(error),
        "sent_at": None,
    }


@cache
def _to_member(dialect: str) -> Insert:
    """``INSERT INTO outbox … SELECT`` the values with the member's preferred chat account
    (reachable, seen last: as ``Identities.preferred`` picks it) ``ON CONFLICT (dedupe_key)
    DO NOTHING RETURNING dedupe_key``, built once per database kind."""
    accounts = _IDENTITIES.c
    member_id = bindparam("member_id", type_=_OUTBOX.c.member_id.type)
    preferred = (
        select(accounts.channel, accounts.user_id)
        .where(accounts.member_id == member_id, accounts.reachable.is_(True))
        .order_by(accounts.last_seen_at.desc(), accounts.id.desc())
        .limit(1)
        .subquery("preferred")
    )
    names = direct.written_columns(_OUTBOX)
    given = direct.named_parameters(_OUTBOX, names)
    given["member_id"] = member_id
    columns = [preferred.c[name] if name in _FROM_ACCOUNT else given[name] for name in names]
    # SQLite: the WHERE tells its parser the ON that follows starts the upsert, not a join's
    rows = select(*columns).select_from(preferred).where(true())
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_OUTBOX)
        .from_select(list(names), rows)
        .on_conflict_do_nothing(index_elements=[_OUTBOX.c.dedupe_key])
        .returning(_OUTBOX.c.dedupe_key)
    )


async def to_member(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Write :func:`new_row`'s ``values`` (``member_id`` given) to the member's preferred chat
    account, in one statement (on the driver once the transaction has begun); True when
    written, False when the member has no reachable chat account or the key was queued before."""
    statement = _to_member(session.get_bind().dialect.name)
    return bool(await direct.fetch_all(session, statement, values))
