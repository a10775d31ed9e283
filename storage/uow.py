"""The unit of work: one transaction around everything one event does.

It rolls back unless told to commit; repositories never commit. ``savepoint()`` lets a handler
undo one step that failed (a reward that cannot be bought) and still answer and commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.core_writes import CoreWrites
from storage.db import READ_ONLY
from storage.repositories.approvals import SaleApprovals
from storage.repositories.audiences import Audiences
from storage.repositories.audit import AuditLog
from storage.repositories.branches import Branches
from storage.repositories.campaign_results import CampaignResults
from storage.repositories.campaigns import Campaigns
from storage.repositories.console import ConsoleAccess
from storage.repositories.contact_events import ContactEvents
from storage.repositories.day_totals import DayTotals
from storage.repositories.enrolment import Enrolments
from storage.repositories.erasure import Erasure
from storage.repositories.events import EventLog
from storage.repositories.identities import Identities
from storage.repositories.inbox import Feedbacks, Inbox
from storage.repositories.jobs import JobRuns
from storage.repositories.media import MediaStore
from storage.repositories.members import Members
from storage.repositories.outbox import Outbox
from storage.repositories.outbox_marks import BareMarks
from storage.repositories.pace import BareClaims, SendPaces
from storage.repositories.people import People
from storage.repositories.points import PointsLedger
from storage.repositories.promotions import Promotions
from storage.repositories.rewards import Coupons, Rewards
from storage.repositories.sales import Sales
from storage.repositories.segments import Segments
from storage.repositories.settings import SettingsCache, ShopSettings
from storage.repositories.staff import StaffMembers
from storage.repositories.state import Conversations
from storage.repositories.subject_access import SubjectAccess
from storage.repositories.withdrawals import Withdrawals


class UnitOfWork:
    _session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: SettingsCache | None = None,
        *,
        read_only: bool = False,
        autocommit: bool = False,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._committed = False
        self._read_only = read_only
        self._autocommit = autocommit

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        await self._session.begin()
        if self._read_only:
            # its connection now, marked before its first statement: on SQLite a plain BEGIN,
            # which leaves the write lock to the webhooks for as long as it reads
            await self._session.connection(execution_options={READ_ONLY: True})
        elif self._autocommit and self._session.get_bind().dialect.name == "postgresql":
            # before its first statement, so that asyncpg starts no transaction at all
            await self._session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        s = self._session
        self._writes = CoreWrites(s)  # the hot path's Core writes (storage/core_writes.py)
        self.events = EventLog(s)
        self.identities = Identities(s, self._writes)
        self.members = Members(s)
        self.points = PointsLedger(s)
        self.conversations = Conversations(s, self._writes)
        self.inbox = Inbox(s, self._writes)
        self.feedback = Feedbacks(s)
        self.audit = AuditLog(s)
        self.outbox = Outbox(s)
        self.pace = SendPaces(s)  # the send budget shared by every process
        self.branches = Branches(s)
        self.settings = ShopSettings(s, self._settings)
        self.media = MediaStore(s)
        self.erasure = Erasure(s)
        self.people = People(s)
        self.staff = StaffMembers(s)
        self.console = ConsoleAccess(s)  # the web console's sign-in links and sessions
        self.rewards = Rewards(s)
        self.coupons = Coupons(s)
        self.segments = Segments(s)
        self.campaigns = Campaigns(s)
        self.audiences = Audiences(s)
        self.enrolment = Enrolments(s)  # a launch's set-based enrolment
        self.jobs = JobRuns(s)
        self.approvals = SaleApprovals(s)
        self.audiences = Audiences(s)
        self.day_totals = DayTotals(s)
        # the shop's own queries (shop/ holds no SQL): sales, promotion responses, results
        self.sales = Sales(s, self._writes)
        self.promotions = Promotions(s)
        self.contact_events = ContactEvents(s)
        self.campaign_results = CampaignResults(s)
        self.withdrawals = Withdrawals(s)
        self.subject_access = SubjectAccess(s)  # the /mydata export (PDPA s.30)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                # Detach first so objects read in a read-only unit of work stay readable after
                # it closes (a rollback would expire them); nothing was written either way.
                self._session.expunge_all()
                await self._session.rollback()
        finally:
            await self._session.close()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        await self._session.commit()
        self._committed = True
        await self.erasure.after_commit()  # an erasure's old bytes leave the SQLite WAL

    async def flush(self) -> None:
        await self._session.flush()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Everything inside is undone if the block raises; the outer transaction goes on."""
        mark = self._writes.mark()
        try:
            async with self._session.begin_nested():
                yield
        except BaseException:
            self._writes.rolled_back(mark)  # Core writes the session does not track
            raise


class UnitOfWorkFactory:
    """Makes a fresh :class:`UnitOfWork` per event (the composition root holds one of these)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        #: shop settings as this process last read them (``storage.repositories.settings``)
        self.settings = SettingsCache()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.settings)

    def reading(self) -> UnitOfWork:
        """A unit of work that only reads (a long count, a preview): on SQLite it does not hold
        the write lock, so events are written beside it; it cannot commit."""
        return UnitOfWork(self.sessions, self.settings, read_only=True)

    def autocommitting(self) -> UnitOfWork:
        """On PostgreSQL a unit of work whose statements each commit as they run, outside any
        transaction: for work each of whose statements is whole by itself (the send pace's
        claim, one statement that locks, takes the slots and moves the rows), it saves the
        ``BEGIN`` and the ``COMMIT``, a trip each. Elsewhere an ordinary unit of work (SQLite's
        claim is several statements under ``BEGIN IMMEDIATE``). Commit it all the same."""
        return UnitOfWork(self.sessions, self.settings, autocommit=True)

    def bare_marks(self) -> BareMarks | None:
        """On PostgreSQL accepted outbox rows marked sent without a unit of work (one statement
        on a pooled connection, see :class:`~storage.repositories.outbox_marks.BareMarks`);
        None elsewhere (SQLite sends the marks with its commit)."""
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
            return BareMarks(bind)
        return None

    def bare_claims(self) -> BareClaims | None:
        """On PostgreSQL the send pace's claims without a unit of work (each one statement on a
        pooled connection, see :class:`~storage.repositories.pace.BareClaims`); None elsewhere
        (SQLite's claim is several statements under ``BEGIN IMMEDIATE``: :meth:`autocommitting`)."""
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
            return BareClaims(bind)
        return None
