"""What a job needs of the running application, as a protocol.

The composition root (``bot.bootstrap.App``) satisfies it; jobs name this instead of the root so
the layers point one way (jobs sit below the composition root and beside the chat handlers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.ports import QuotaReader
from storage.db import Database
from storage.uow import UnitOfWorkFactory


class Events(Protocol):
    """The event bus's hooks a job uses: wake the dispatcher, read LINE's quota."""

    #: called after a commit that queued outbox rows (the dispatcher's ``kick``)
    on_commit: Callable[[], None] | None
    #: LINE's quota endpoints, when LINE is on
    quota_reader: QuotaReader | None


class App(Protocol):
    """The settings, clock, database and bus hooks of the running application."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def engine(self) -> Database: ...
    @property
    def uow(self) -> UnitOfWorkFactory: ...
    @property
    def bus(self) -> Events: ...
