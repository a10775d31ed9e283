"""The leader lock: which of several processes on one PostgreSQL schema runs the jobs.

Leadership is a session-level advisory lock,
``pg_try_advisory_lock(LOCK_CLASS, hashtext(current_schema()))`` (one lock per installation
schema), held on a DEDICATED connection: detached from the pool (so the pool never hands it to a
request or recycles it) and in autocommit (a transaction-level lock would end with the
transaction). If the holder dies, its connection drops and PostgreSQL releases the lock.
SQLite is one process by design and has no lock: :func:`elects_leader` says so. How the lock is
used (retries, duties) is ``jobs.leader``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: first key of the two-key advisory lock ("CRM" in ASCII), the second is the schema's hash
LOCK_CLASS: Final = 0x43524D
_TRY_LOCK: Final = text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))")
_PING: Final = text("SELECT 1")
#: the leader's lock connection carries its name, so others can say who leads
_NAME_SELF: Final = text("SELECT set_config('application_name', :name, false)")
#: a two-key advisory lock shows its keys as classid/objid (unsigned), objsubid 2
_HOLDER: Final = text(
    "SELECT a.application_name, a.client_addr::text, a.pid, a.backend_start "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid::bigint = :cls "
    "AND l.objid::bigint = (hashtext(current_schema())::bigint & 4294967295)"
)


def leader_name() -> str:
    """How this process names itself while it leads (host and process id)."""
    return f"chatcrm leader {socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True, slots=True)
class LeaderHolder:
    """The process holding the lock, as PostgreSQL sees its lock connection."""

    name: str
    address: str | None
    backend_pid: int
    since: datetime


async def current_leader(engine: AsyncEngine) -> LeaderHolder | None:
    """Who holds this schema's leader lock now (None: no process leads). PostgreSQL only."""
    async with engine.connect() as connection:
        row = (await connection.execute(_HOLDER, {"cls": LOCK_CLASS})).first()
    if row is None:
        return None
    return LeaderHolder(str(row[0] or ""), row[1], int(row[2]), row[3])


def elects_leader(engine: AsyncEngine) -> bool:
    """True when several processes may share the database (PostgreSQL), so one must hold the
    lock to lead; False on SQLite, where the process is always the leader."""
    return engine.dialect.name == "postgresql"


def _detach(connection: Connection) -> None:
    connection.detach()  # closed for real on close, never back to the pool


class LeaderLock:
    """The lock, held on its dedicated connection until :meth:`release` (or the connection
    drops)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @classmethod
    async def try_acquire(cls, engine: AsyncEngine) -> LeaderLock | None:
        """The lock on a dedicated autocommit connection, or None if another process has it.

        Raises when the database cannot be reached (the connection is closed first)."""
        connection = await engine.connect()
        try:
            # autocommit first: detaching ends the pool's bookkeeping for the connection
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.run_sync(_detach)
            got = (await connection.execute(_TRY_LOCK, {"cls": LOCK_CLASS})).scalar_one()
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return None
        try:
            await connection.execute(_NAME_SELF, {"name": leader_name()})
        except BaseException:
            await connection.close()  # closing releases the lock: nobody half-leads
            raise
        return cls(connection)

    async def check(self, seconds: float) -> None:
        """Raise unless the lock's connection answers within ``seconds`` (a failure means the
        lock may be gone)."""
        await asyncio.wait_for(self._connection.execute(_PING), seconds)

    async def release(self) -> None:
        """Close the connection, which releases the lock; raises if it is already dead."""
        await self._connection.close()
