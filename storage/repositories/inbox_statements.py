"""The inbox's hot-path statements (``storage/repositories/inbox.py``), built once and run on
the driver (``storage/direct.py``): every customer text reads its open thread, and writes a
message (and, for its first text, the thread).

SQLite has one writer: a customer's text reads and writes under the write lock, so what it
read holds until it commits. PostgreSQL runs batches in parallel transactions, so its
statements take row locks and check again when they write (``*_LOCKED``, ``*_CHECKED``):

- the open-thread read locks the customer's chat account (``FOR NO KEY UPDATE`` of its
  ``channel_identities`` row, which no foreign key's check waits on), so one customer's texts
  run one after another. The read's snapshot was taken before it waited for the lock, so a
  thread opened meanwhile is not in it: the thread's INSERT opens one only where the
  identity has none open (:data:`OPEN_UNLESS_OPEN`, a statement of its own, so it sees what
  committed before the lock was given) and otherwise the text reads again;
- the thread is not locked by the read: staff closing it need not wait for the customer. The
  message's INSERT goes into the thread only if the thread's UPDATE (its ``last_message_at``)
  finds it still open (:data:`RECEIVE_CHECKED`): a close committed meanwhile, or one that
  commits while the UPDATE waits for its row, leaves no row, and the text opens a new thread.
  A close that comes after the UPDATE waits for the text's commit, as on SQLite.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, insert, select, update

from storage import direct
from storage.models import ChannelIdentity, InboxMessage, InboxThread, OutboxMessage, table_of
from storage.repositories.outbox_statements import LIKE_ESCAPE

OPEN: Final = "open"

_MESSAGES: Final = table_of(InboxMessage)
_THREADS: Final = table_of(InboxThread)
_IDENTITIES: Final = table_of(ChannelIdentity)
_OUTBOX: Final = table_of(OutboxMessage)
#: a message's columns, every one given (its model's Python-side defaults, ``direction`` and
#: ``status``, among the values), so the INSERT runs on the driver as it is
MESSAGE_COLUMNS: Final = direct.written_columns(_MESSAGES)
#: built once: every customer message to the inbox runs it (see :meth:`Inbox.receive`)
RECEIVE: Final = direct.insert_of(_MESSAGES, MESSAGE_COLUMNS, _MESSAGES.c.id)
#: a new thread's columns, every one given (see :data:`MESSAGE_COLUMNS`)
_THREAD_COLUMNS: Final = direct.written_columns(_THREADS)
OPEN_THREAD: Final = direct.insert_of(_THREADS, _THREAD_COLUMNS, _THREADS.c.id)
_LAST_DIRECTION: Final = (
    select(_MESSAGES.c.direction)
    .where(_MESSAGES.c.thread_id == _THREADS.c.id)
    .order_by(_MESSAGES.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_IS_OPEN: Final = _THREADS.c.status == OPEN
#: the sender's open thread (its columns, in the table's order) and the direction of its last
#: message (every customer message): plain columns, read on the driver
OPEN_AND_LAST: Final = (
    select(*_THREADS.c, _LAST_DIRECTION)
    .where(_THREADS.c.identity_id == bindparam("identity_id"), _IS_OPEN)
    .order_by(_THREADS.c.id.desc())
    .limit(1)
)
#: :data:`OPEN_AND_LAST` with the chat account's row locked (PostgreSQL): one row while the
#: account exists, its thread columns None when no thread is open
OPEN_AND_LAST_LOCKED: Final = (
    select(*_THREADS.c, _LAST_DIRECTION)
    .select_from(
        _IDENTITIES.outerjoin(_THREADS, and_(_THREADS.c.identity_id == _IDENTITIES.c.id, _IS_OPEN))
    )
    .where(_IDENTITIES.c.id == bindparam("identity_id"))
    .order_by(_THREADS.c.id.desc())
    .limit(1)
    .with_for_update(of=_IDENTITIES, key_share=True)
)
THREAD_NAMES: Final = tuple(column.name for column in _THREADS.c)
_NOW: Final = bindparam("now", type_=_THREADS.c.last_message_at.type)
MOVED: Final = (
    update(_THREADS).where(_THREADS.c.id == bindparam("thread_id")).values(last_message_at=_NOW)
)
#: :data:`OPEN_THREAD` unless the identity has an open thread (PostgreSQL): no row then
OPEN_UNLESS_OPEN: Final = (
    insert(_THREADS)
    .from_select(
        _THREAD_COLUMNS,
        select(*direct.named_parameters(_THREADS, _THREAD_COLUMNS).values()).where(
            ~select(_THREADS.c.id)
            .where(_THREADS.c.identity_id == bindparam("identity_id"), _IS_OPEN)
            .exists()
        ),
    )
    .returning(_THREADS.c.id)
)
_STILL_OPEN: Final = (
    update(_THREADS)
    .where(_THREADS.c.id == bindparam("thread_id"), _IS_OPEN)
    .values(last_message_at=_NOW)
    .returning(_THREADS.c.id)
    .cte("still_open")
)
#: the message's values as parameters ``in_<column>``: a parameter named as a column of the
#: UPDATE's table would join its SET where SQLAlchemy executes the statement
_GIVEN: Final = {
    name: bindparam(f"in_{name}", type_=_MESSAGES.c[name].type) for name in MESSAGE_COLUMNS
}
#: :data:`RECEIVE` and :data:`MOVED` in one statement, the message written only if the UPDATE
#: found the thread still open (PostgreSQL): no row otherwise. Its values: ``thread_id``,
#: ``now`` and the message's as ``in_<column>``
RECEIVE_CHECKED: Final = (
    insert(_MESSAGES)
    .from_select(
        MESSAGE_COLUMNS,
        select(
            *(_STILL_OPEN.c.id if name == "thread_id" else _GIVEN[name] for name in MESSAGE_COLUMNS)
        ),
    )
    .returning(_MESSAGES.c.id)
)


@cache
def alerts_query(ranged: bool) -> Select[int]:
    """:meth:`Inbox.alerts_since`' statement, built once (every customer message to the inbox
    may ask it): the pattern (``pattern``, :func:`key_prefix_pattern`) and ``since``, with
    ``ranged`` the key range as well (``low`` and ``high``)."""
    box = _OUTBOX.c  # the table's columns: a Core statement, no ORM layer around it
    key = box.dedupe_key
    pattern = bindparam("pattern", type_=key.type)
    found: ColumnElement[bool] = key.like(pattern, escape=LIKE_ESCAPE)
    if ranged:
        low, high = bindparam("low", type_=key.type), bindparam("high", type_=key.type)
        found = and_(key >= low, key < high, found)
    since = bindparam("since", type_=box.created_at.type)
    return select(func.count()).select_from(_OUTBOX).where(found, box.created_at >= since)
