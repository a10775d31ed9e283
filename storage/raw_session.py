"""The unit of work's database session, for code that writes or reads rows no use case does.

The unit of work offers repositories and commit/rollback; its session is private. Storage's
own query modules (segment resolution, reports) and set-up code outside the product — tests,
benchmarks, the simulator and the demo generator — reach it through :func:`session_of`. An
import-linter contract keeps the shop's rules, the wording, the chat handlers, the jobs and the
channel adapters from importing this module.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.uow import UnitOfWork


def session_of(uow: UnitOfWork) -> AsyncSession:
    """The session of an open unit of work (inside its ``async with``)."""
    return uow._session
