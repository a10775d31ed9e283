"""Leader election: of several ``serve`` processes on one database, one runs the jobs and sends.

Every process serves webhooks (they only write rows). The *leader* alone runs the scheduler AND
the outbox dispatcher. Sending only from the leader is the simplest way to keep the platforms'
rate limits across processes: the token buckets (``jobs.ratelimit``) live in one process's
memory, so one sender means one set of buckets. The dispatcher's ``FOR UPDATE SKIP LOCKED``
claims stay as a second line of defence: even two senders (say, an old leader that has not yet
noticed it lost the lock) never send the same row twice.

On PostgreSQL, leadership is a session-level advisory lock,
``pg_try_advisory_lock(LOCK_CLASS, hashtext(current_schema()))`` (one lock per installation
schema), held on a DEDICATED connection: detached from the pool (so the pool never hands it to a
request or recycles it) and in autocommit (a transaction-level lock would end with the
transaction). If the leader dies, its connection drops and PostgreSQL releases the lock;
followers retry every ``CHATCRM_LEADER_RETRY_SECONDS`` (default 5), so a killed leader is
replaced within about that bound (plus the time the server takes to notice a dead peer: at once
for a killed process, whose socket the kernel closes). The messages the dead leader had claimed
but not sent are reserved until their lease ends (``CHATCRM_OUTBOX_LEASE_SECONDS``, counted from
its claim); the new leader's dispatcher sends them then, each once
(``tests/e2e/test_two_processes.py`` kills a ``serve`` leader between two sends). The leader
checks its connection on the same period and, when the check fails, stops its duties at once:
the scheduler's running jobs are cancelled (their ``job_runs`` rows stay unfinished and the
next leader re-runs them; jobs are idempotent per member, see ``jobs.periods``).

On SQLite (one process by design) the process is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from jobs.app import App

log = logging.getLogger(__name__)

#: first key of the two-key advisory lock ("CRM" in ASCII), the second is the schema's hash
LOCK_CLASS: Final = 0x43524D
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))")

#: what the leader runs while it leads, given the moment it became leader
Duties = Callable[[datetime], AbstractAsyncContextManager[None]]


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _detach(connection: Connection) -> None:
    connection.detach()  # closed for real on close, never back to the pool


async def _try_lock(app: App) -> AsyncConnection | None:
    """A dedicated autocommit connection holding the lock, or None if another process has it."""
    connection = await app.engine.connect()
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
    return connection


async def _alive(connection: AsyncConnection, seconds: float) -> bool:
    try:
        await asyncio.wait_for(connection.execute(text("SELECT 1")), seconds)
    except (Exception, TimeoutError) as error:  # any failure means the lock may be gone
        log.warning("leader lock connection lost: %r", error)
        return False
    return True


async def lead_when_elected(app: App, stop: asyncio.Event, duties: Duties) -> None:
    """Run ``duties`` whenever this process is the leader, until ``stop`` is set.

    Returns after the duties have stopped and the lock is released. Never raises for a database
    that is down: it logs, waits ``leader_retry_seconds`` and tries again.
    """
    retry = app.settings.leader_retry_seconds
    if app.engine.dialect.name != "postgresql":
        async with duties(app.clock.now()):
            await stop.wait()
        return
    while not stop.is_set():
        try:
            connection = await _try_lock(app)
        except Exception as error:  # database unreachable: stay a follower and retry
            log.warning("leader election failed, retrying in %ss: %r", retry, error)
            await _sleep_unless(stop, retry)
            continue
        if connection is None:
            await _sleep_unless(stop, retry)
            continue
        try:
            log.info("this process is now the leader (scheduler and dispatcher run here)")
            async with duties(app.clock.now()):
                while not stop.is_set():
                    await _sleep_unless(stop, retry)
                    if not stop.is_set() and not await _alive(connection, retry):
                        break
        finally:
            with contextlib.suppress(Exception):  # the connection may be dead already
                await connection.close()
            log.info("this process is no longer the leader")
