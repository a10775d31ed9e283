"""Guessing throttles: how many wrong codes one account may try, and when it may try again.

A throttle counts an account's failed attempts (audit rows of its ``actions``, so the count
survives a restart and is shared by every process) and refuses further attempts while the
account is over its limit. The check and the attempt are one step per account: :func:`locked_until`
first holds the account's lock for the rest of the unit of work (on PostgreSQL a transaction
advisory lock; SQLite serialises every writing transaction already), so 50 codes sent at once
are looked at one after the other and at most ``limit`` of them are tried. The caller records
a failure in the same unit of work, before the lock is let go at commit.

Two shapes of rule: without ``lockout`` the account waits until enough failures have left the
``window`` (``limit`` per ``window``, sliding); with ``lockout``, ``limit`` failures within
``window`` lock the account for ``lockout`` after the last of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most ``limit`` failures (audit ``actions``) per account within ``window``."""

    actions: tuple[str, ...]
    limit: int
    window: timedelta
    lockout: timedelta | None = None


async def locked_until(
    uow: UnitOfWork, throttle: Throttle, account: str, now: datetime
) -> datetime | None:
    """Hold ``account``'s throttle lock until ``uow`` ends, then say until when it may not try
    (None: it may try now). Record a failed try in the same ``uow`` (``uow.audit.record`` with
    one of the throttle's actions) so the next attempt, waiting on the lock, counts it."""
    await uow.audit.hold(account)
    lookback = throttle.window + (throttle.lockout or timedelta(0))
    times = await uow.audit.times(account, throttle.actions, now - lookback)
    until = _until(throttle, times)
    return until if until is not None and until > now else None


def _until(throttle: Throttle, times: Sequence[datetime]) -> datetime | None:
    limit = throttle.limit
    if throttle.lockout is None:
        return times[-limit] + throttle.window if len(times) >= limit else None
    until: datetime | None = None
    for last in range(limit - 1, len(times)):
        if times[last] - times[last - limit + 1] <= throttle.window:
            until = times[last] + throttle.lockout
    return until
