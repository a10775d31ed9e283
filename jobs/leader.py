"""Leader election: of several ``serve`` processes on one database, one runs the jobs and sends.

Every process serves webhooks (they only write rows). The *leader* alone runs the scheduler AND
the outbox dispatcher. Sending only from the leader is the simplest way to keep the platforms'
rate limits across processes: the token buckets (``jobs.ratelimit``) live in one process's
memory, so one sender means one set of buckets. The dispatcher's ``FOR UPDATE SKIP LOCKED``
claims stay as a second line of defence: even two senders (say, an old leader that has not yet
noticed it lost the lock) never send the same row twice.

On PostgreSQL, leadership is the lock of ``storage.leader_lock`` (held on a dedicated connection,
released by PostgreSQL when the leader's connection drops). If the leader dies, its lock goes;
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

from jobs.app import App
from storage.leader_lock import LeaderLock, elects_leader

log = logging.getLogger(__name__)

#: what the leader runs while it leads, given the moment it became leader
Duties = Callable[[datetime], AbstractAsyncContextManager[None]]


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _alive(lock: LeaderLock, seconds: float) -> bool:
    try:
        await lock.check(seconds)
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
    if not elects_leader(app.engine):
        async with duties(app.clock.now()):
            await stop.wait()
        return
    while not stop.is_set():
        try:
            lock = await LeaderLock.try_acquire(app.engine)
        except Exception as error:  # database unreachable: stay a follower and retry
            log.warning("leader election failed, retrying in %ss: %r", retry, error)
            await _sleep_unless(stop, retry)
            continue
        if lock is None:
            await _sleep_unless(stop, retry)
            continue
        try:
            log.info("this process is now the leader (scheduler and dispatcher run here)")
            async with duties(app.clock.now()):
                while not stop.is_set():
                    await _sleep_unless(stop, retry)
                    if not stop.is_set() and not await _alive(lock, retry):
                        break
        finally:
            with contextlib.suppress(Exception):  # the connection may be dead already
                await lock.release()
            log.info("this process is no longer the leader")
