"""The dispatcher's statements on the outbox (claim, lease, mark sent), built once and reused.

A fan-out sends a campaign in claims of a thousand rows and outcomes of a multicast each, so
these statements run several times for every thousand recipients. SQLAlchemy finds a
statement's compiled form by a cache key it derives by walking the statement, on every
execution of a statement built anew; a statement object kept and executed again with new
values remembers its key. So each is built once per database kind (and, for the claim, per
set of channels), its values bound by name at execution: the SQL and the rows it touches are
those of the statements built each time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    Update,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from storage.bulk.sql import Bound, commonly_true
from storage.models import OutboxMessage, table_of
from storage.repositories.outbox_reads import PENDING, is_pending, is_urgent
from storage.repositories.withdrawals import unwanted_promotion
from storage.sqlite_driver import Along

SENT: Final = "sent"
MAX_ERROR_LENGTH: Final = 500


def clip(error: str | None) -> str | None:
    """``error`` cut to what the outbox's ``error`` column holds."""
    return None if error is None else error[:MAX_ERROR_LENGTH]


#: the escape character of the key patterns :func:`key_prefix_pattern` writes
LIKE_ESCAPE: Final = "/"

#: a claim's select (its columns are read by position: ``outbox._queued``)
Claim = Select[*tuple[Any, ...]]

_claims: dict[tuple[str, bool, tuple[str, ...]], Claim] = {}
_leases: dict[str, Update] = {}
_marks: dict[str, Update] = {}


def ids_value(bind: Bound, ids: Collection[int]) -> Any:
    """The value of the ``ids`` parameter of :func:`lease` and :func:`mark_sent`."""
    return list(ids) if bind.dialect.name == "postgresql" else json.dumps(list(ids))


def returned_ids(along: Along) -> Callable[[], set[int]]:
    """The ids returned by a statement sent along (:func:`mark_sent`), read once it ran."""

    def ids() -> set[int]:
        if along.rows is None:
            raise RuntimeError("not sent yet: read it after the transaction's next statement")
        return {row[0] for row in along.rows}

    return ids


def _among(dialect: str) -> ColumnElement[bool]:
    """``outbox.id IN :ids`` with the ids bound as one value (``storage.bulk.sql.is_among``)."""
    column = table_of(OutboxMessage).c.id
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(column.type)))
    listed = select(func.json_each(bindparam("ids", type_=String)).table_valued("value"))
    return column.in_(listed.scalar_subquery())


def claim(bind: Bound, channels: Collection[str], *, urgent_only: bool) -> Claim:
    """Due rows of ``channels`` (each channel's rows to anyone), oldest first, locked as
    ``Outbox.due`` locks them; parameters ``now`` and ``claim_limit``."""
    key = (bind.dialect.name, urgent_only, tuple(channels))
    statement = _claims.get(key)
    if statement is None:
        box = OutboxMessage
        statement = _claims[key] = (
            select(
                box.id,
                box.channel,
                box.user_id,
                box.member_id,
                type_coerce(box.payload, Text).label("payload"),  # parsed once per distinct text
                box.attempts,
                box.retry_key,
                box.promotional,
                box.dedupe_key,
                box.priority,
                unwanted_promotion().label("unwanted"),
            )
            .where(is_urgent() if urgent_only else is_pending())
            .where(box.not_before <= bindparam("now"), box.channel.in_(list(channels)))
            .order_by(box.not_before, box.id)
            .limit(bindparam("claim_limit", type_=Integer))
            .with_for_update(skip_locked=True)  # the SQLite dialect leaves this out
        )
    return statement


def lease(bind: Bound) -> Update:
    """Claimed rows ``ids`` reserved until ``lease_until``."""
    dialect = bind.dialect.name
    statement = _leases.get(dialect)
    if statement is None:
        box = table_of(OutboxMessage)
        statement = _leases[dialect] = (
            update(box).where(_among(dialect)).values(not_before=bindparam("lease_until"))
        )
    return statement


def mark_sent(bind: Bound) -> Update:
    """The still-pending rows among ``ids`` sent at ``marked_at``, their ids returned."""
    dialect = bind.dialect.name
    statement = _marks.get(dialect)
    if statement is None:
        box = table_of(OutboxMessage)
        # bound, not in the text: rows looked up by id need no index of their status
        pending = commonly_true(bind, box.c.status == PENDING)
        statement = _marks[dialect] = (
            update(box)
            .where(_among(dialect), pending)
            .values(
                status=SENT,
                sent_at=bindparam("marked_at"),
                attempts=box.c.attempts + 1,
                error=None,
            )
            .returning(box.c.id)
        )
    return statement


def key_prefix_pattern(prefix: str) -> str:
    """The ``LIKE`` pattern (escaped with :data:`LIKE_ESCAPE`) of the dedupe keys that start
    with ``prefix``, escaped as ``startswith(prefix, autoescape=True)`` escapes it: a statement
    built once binds it as a value."""
    escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"{escaped}%"


#: per channel, the only recipients a process serves (a console terminal serves its own user)
Recipients = Mapping[str, Collection[str]]


def of_channels(channels: Collection[str], recipients: Recipients | None) -> Any:
    """Rows of ``channels``; of a channel in ``recipients``, only the rows to those users, so a
    message to another console user waits for that user's own terminal."""
    box = OutboxMessage
    scoped = recipients or {}
    whole = [channel for channel in channels if channel not in scoped]
    parts: list[ColumnElement[bool]] = [box.channel.in_(whole)] if whole else []
    parts += [
        and_(box.channel == channel, box.user_id.in_(list(scoped[channel])))
        for channel in channels
        if channel in scoped
    ]
    return or_(*parts) if len(parts) != 1 else parts[0]
