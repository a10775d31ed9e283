"""Every webhook event's arrival read as plain values: a Core statement on the tables.

The bus reads the author's chat account, member, staff account and conversation state with
every event. Loading them as ORM entities costs more Python than the rest of the read (the
entity loaders, the identity map), and the common events (``/points``, ``/card``, free text
to the inbox, ``/sale``) only read ids, names and the language. So the read returns immutable
views (named tuples of the columns); the session's object of a row is made only when a
handler asks for it (:meth:`Materialiser.held`), from the values already read.

A view is the row as the arrival read it, with the arrival's own writes (``last_seen_at``, the
reachable flag). A Core write later in the event keeps an object the session holds in step
(``CoreWrites.wrote``, the ledger's refresh of a held member), not a view: a handler that
moves its own author's points and then reads them asks for ``ctx.member`` first (as every
such handler does: it needs the member's id before the move).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, func, inspect, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ColumnElement

from storage.core_writes import CoreWrites
from storage.models import Base, ChannelIdentity, ConversationState, Member, Staff, table_of
from storage.repositories.settings import version_column


class IdentityView(NamedTuple):
    """A ``channel_identities`` row as read (fields in the table's column order)."""

    id: int
    channel: str
    user_id: str
    member_id: int | None
    display_name: str | None
    language_code: str | None
    chosen_locale: str | None
    reachable: bool
    first_seen_at: datetime
    last_seen_at: datetime
    reachability_at: datetime | None


class MemberView(NamedTuple):
    """A ``members`` row as read."""

    id: int
    member_code: str
    name: str | None
    phone: str | None
    phone_unlinked: str | None
    birthday: Any
    gender: str | None
    home_branch_id: int | None
    locale: str
    joined_at: datetime
    referred_by_code: str | None
    signup_source: str | None
    marketing_opt_in: bool
    erased_at: datetime | None
    points_balance: int
    tier: str | None
    tier_since: datetime | None
    phone_verified: bool


class StaffView(NamedTuple):
    """A ``staff`` row as read."""

    id: int
    channel: str
    user_id: str
    name: str
    role: str
    branch_id: int | None
    active: bool
    created_at: datetime


class StateView(NamedTuple):
    """A ``conversation_states`` row as read."""

    channel: str
    user_id: str
    flow: str
    step: str
    data: dict[str, Any]
    expires_at: datetime
    updated_at: datetime


#: a chat account, member or staff account: the session's object or the view of its row
IdentityLike = ChannelIdentity | IdentityView
MemberLike = Member | MemberView
StaffLike = Staff | StaffView

IDENTITIES: Final = table_of(ChannelIdentity)
_MEMBERS: Final = table_of(Member)
_STAFF: Final = table_of(Staff)
_STATES: Final = table_of(ConversationState)
_OTHER: Final = IDENTITIES.alias("other")

_MEMBER_ON: Final = _MEMBERS.c.id == IDENTITIES.c.member_id
_STAFF_ON: Final = and_(
    _STAFF.c.channel == IDENTITIES.c.channel,
    _STAFF.c.user_id == IDENTITIES.c.user_id,
    _STAFF.c.active.is_(true()),
)
_STATE_ON: Final = and_(
    _STATES.c.channel == IDENTITIES.c.channel, _STATES.c.user_id == IDENTITIES.c.user_id
)


def _columns(table: Any, names: tuple[str, ...]) -> list[ColumnElement[Any]]:
    return [table.c[name] for name in names]


#: the views' columns, in their order, then the settings version and the others' last seen
_COLUMNS: Final = (
    *_columns(IDENTITIES, IdentityView._fields),
    *_columns(_MEMBERS, MemberView._fields),
    *_columns(_STAFF, StaffView._fields),
    *_columns(_STATES, StateView._fields),
    version_column(),
    select(func.max(_OTHER.c.last_seen_at))
    .where(_OTHER.c.member_id == IDENTITIES.c.member_id, _OTHER.c.id != IDENTITIES.c.id)
    .scalar_subquery(),
)
_I: Final = len(IdentityView._fields)
_M: Final = _I + len(MemberView._fields)
_S: Final = _M + len(StaffView._fields)
_C: Final = _S + len(StateView._fields)


def read(*leading: ColumnElement[Any]) -> Any:
    """The arrival's SELECT (``leading`` columns first) before its FROM."""
    return select(*leading, *_COLUMNS)


def joined(statement: Any) -> Any:
    """``statement`` with the member, staff account and state joined to the chat account."""
    return (
        statement.outerjoin(_MEMBERS, _MEMBER_ON)
        .outerjoin(_STAFF, _STAFF_ON)
        .outerjoin(_STATES, _STATE_ON)
    )


#: built once: every webhook event executes it
ARRIVAL: Final = joined(read().select_from(IDENTITIES)).where(
    IDENTITIES.c.channel == bindparam("channel"), IDENTITIES.c.user_id == bindparam("user_id")
)


class Arrival(NamedTuple):
    """Everything the bus needs about the author of an event, read in one statement."""

    identity: IdentityView
    #: the linked member (erased ones included: the caller decides what they may see)
    member: MemberView | None
    #: the active staff account of this chat identity
    staff: StaffView | None
    #: the stored conversation state, expired or not (the caller compares ``expires_at``)
    conversation: StateView | None
    #: the shop settings' version token (``storage.repositories.settings``), read in passing
    settings_version: Any
    #: the latest ``last_seen_at`` of the member's other chat accounts (None: there are none)
    others_seen_at: datetime | None


def arrival_of(row: Any, skip: int = 0) -> Arrival:
    """The :class:`Arrival` in ``row`` (of :data:`ARRIVAL`'s columns after ``skip`` others)."""
    values = tuple(row)[skip:] if skip else row
    return Arrival(
        IdentityView._make(values[:_I]),
        None if values[_I] is None else MemberView._make(values[_I:_M]),
        None if values[_M] is None else StaffView._make(values[_M:_S]),
        None if values[_S] is None else StateView._make(values[_S:_C]),
        values[_C],
        values[_C + 1],
    )


Entity = TypeVar("Entity", ChannelIdentity, Member, Staff)


class Materialiser:
    """The session's object of a row the arrival read as a view (see the module docstring)."""

    def __init__(self, session: AsyncSession, writes: CoreWrites) -> None:
        self._s = session
        self._writes = writes

    def held(self, cls: type[Entity], view: IdentityView | MemberView | StaffView) -> Entity:
        """The session's object of ``view``'s row: the one it holds (loaded by another query,
        or made before), else one made from ``view`` and attached as loaded. No statement.

        A held object some columns of which were expired (a savepoint rolled back) gets them
        from ``view``: it was read after that, and nothing it shows was changed since but by
        the arrival's own writes, which ``view`` carries.
        """
        return attached(self._s, self._writes, cls, view._asdict())


Held = TypeVar("Held", bound=Base)


def attached(
    session: AsyncSession,
    writes: CoreWrites,
    cls: type[Held],
    values: dict[str, Any],
    *,
    inserted: bool = False,
) -> Held:
    """The session's object of the row of ``cls`` whose columns are ``values`` (its primary key
    ``id`` among them), as a query of the entity would give it: the object the session holds,
    its unloaded columns (expired by a savepoint's rollback) set from ``values``, else one made
    from ``values`` and attached as loaded. ``inserted``: the row was just inserted, so a
    savepoint that rolls it back takes the object out of the session. No statement."""
    found = session.sync_session.identity_map.get(identity_key(cls, values["id"]))
    if found is not None:
        held: Held = found
        for name in sa_unloaded(held):
            if name in values:
                set_committed_value(held, name, values[name])
        return held
    made = cls(**values)
    make_transient_to_detached(made)
    session.add(made)
    if inserted:
        writes.inserted(made)
    else:
        writes.wrote(made, {})  # expired, as a written object, if a savepoint rolls back
    return made


def sa_unloaded(obj: object) -> frozenset[str]:
    return frozenset(inspect(obj).unloaded)
