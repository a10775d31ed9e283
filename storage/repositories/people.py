"""What staff know about a member beyond the card: tags, notes, search by name, the figures of
their purchases; and the one-time codes that join a chat account to a member (``link``,
``claim``).

Codes are stored hashed (SHA-256 of the normalised code) and spent with a conditional update, so
a code works once even when two people send it at the same moment.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.expiry import BATCH, delete_some
from storage.models import (
    AuditEntry,
    ChannelIdentity,
    Member,
    MemberNote,
    MemberTag,
    OneTimeCode,
    PointsEntry,
    Sale,
)
from storage.name_search import name_contains
from storage.repositories.staff import code_hash
from storage.upsert import insert_once

LINK: Final = "link"
CLAIM: Final = "claim"
#: what people put between the groups of a code when they type it
_CODE_SEPARATORS: Final = re.compile(r"[\s\-]+")


def hash_one_time_code(code: str) -> str:
    """The stored form of a typed code (case, spaces and dashes do not matter)."""
    return code_hash(_CODE_SEPARATORS.sub("", code))


@dataclass(frozen=True, slots=True)
class PurchaseSummary:
    """A member's non-voided sales, aggregated in SQL."""

    visits: int
    spend: Decimal
    first_visit: datetime | None
    last_visit: datetime | None
    favourite_branch_id: int | None

    @property
    def average_ticket(self) -> Decimal:
        if self.visits == 0:
            return Decimal("0.00")
        return (self.spend / self.visits).quantize(Decimal("0.01"))


class People:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # -- tags and notes -------------------------------------------------------------------

    async def tags(self, member_id: int) -> list[str]:
        result = await self._s.execute(
            select(MemberTag.tag).where(MemberTag.member_id == member_id).order_by(MemberTag.tag)
        )
        return list(result.scalars().all())

    async def add_tags(self, member_id: int, tags: Collection[str], now: datetime) -> list[str]:
        """Add the tags the member does not have yet; returns those actually added. A tag
        another transaction adds at the same moment is added once, by that one (the other
        waits for its commit and adds nothing), instead of failing on the key."""
        have = set(await self.tags(member_id))
        added = []
        for tag in sorted(set(tags) - have):
            values = {"member_id": member_id, "tag": tag, "created_at": now}
            if await insert_once(self._s, MemberTag, values, ("member_id", "tag")):
                added.append(tag)
        return added

    async def remove_tags(self, member_id: int, tags: Collection[str]) -> list[str]:
        """Remove the given tags; returns those the member had."""
        have = set(await self.tags(member_id))
        removed = sorted(set(tags) & have)
        if removed:
            await self._s.execute(
                delete(MemberTag).where(
                    MemberTag.member_id == member_id, MemberTag.tag.in_(removed)
                )
            )
        return removed

    async def add_note(
        self, member_id: int, staff_id: int | None, text: str, now: datetime
    ) -> MemberNote:
        note = MemberNote(member_id=member_id, staff_id=staff_id, text=text, created_at=now)
        self._s.add(note)
        await self._s.flush()
        return note

    async def still_there(self, member_id: int) -> bool:
        """Whether the member exists and is not erased, read with their row share-locked
        (``FOR KEY SHARE``, PostgreSQL) to the commit: an erasure, which locks the row first,
        either committed before (and is seen here) or waits for this transaction's commit
        and then takes what it wrote about the member with it."""
        erased = await self._s.execute(
            select(Member.erased_at)
            .where(Member.id == member_id)
            .with_for_update(read=True, key_share=True)
        )
        found = erased.first()
        return found is not None and found.erased_at is None

    async def notes(self, member_id: int, limit: int = 3) -> Sequence[MemberNote]:
        """The latest notes first."""
        result = await self._s.execute(
            select(MemberNote)
            .where(MemberNote.member_id == member_id)
            .order_by(MemberNote.created_at.desc(), MemberNote.id.desc())
            .limit(limit)
        )
        return result.scalars().all()

    # -- finding and describing members ---------------------------------------------------

    async def search_by_name(self, text: str, limit: int = 5) -> Sequence[Member]:
        """Members (not erased) whose name contains ``text``, in any case and whatever
        invisible characters either holds (:mod:`storage.name_search`)."""
        result = await self._s.execute(
            select(Member)
            .where(Member.erased_at.is_(None), name_contains(Member.name, text))
            .order_by(Member.name, Member.id)
            .limit(limit)
        )
        return result.scalars().all()

    async def purchases(self, member_id: int) -> PurchaseSummary:
        live = (Sale.member_id == member_id, Sale.voided_at.is_(None))
        totals = (
            await self._s.execute(
                select(
                    func.count(Sale.id),
                    func.coalesce(func.sum(Sale.amount), 0),
                    func.min(Sale.occurred_at),
                    func.max(Sale.occurred_at),
                ).where(*live)
            )
        ).one()
        visits = func.count(Sale.id)
        favourite = (
            await self._s.execute(
                select(Sale.branch_id)
                .where(*live)
                .group_by(Sale.branch_id)
                .order_by(visits.desc(), func.max(Sale.occurred_at).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return PurchaseSummary(
            visits=int(totals[0]),
            # the sum keeps the Money column type, so it arrives in baht
            spend=Decimal(totals[1]).quantize(Decimal("0.01")),
            first_visit=totals[2],
            last_visit=totals[3],
            favourite_branch_id=favourite,
        )

    async def sales_before(self, sale: Sale) -> int:
        """How many non-voided sales the member of ``sale`` made before it (by when they
        happened, then by id): none for their first purchase, also when an import brought
        several purchases at once."""
        earlier = or_(
            Sale.occurred_at < sale.occurred_at,
            and_(Sale.occurred_at == sale.occurred_at, Sale.id < sale.id),
        )
        result = await self._s.execute(
            select(func.count(Sale.id)).where(
                Sale.member_id == sale.member_id, Sale.voided_at.is_(None), earlier
            )
        )
        return int(result.scalar_one())

    async def first_purchase(self, member_id: int) -> Sale | None:
        """The member's first non-voided sale (by when it happened, then by id), or None."""
        result = await self._s.execute(
            select(Sale)
            .where(Sale.member_id == member_id, Sale.voided_at.is_(None))
            .order_by(Sale.occurred_at, Sale.id)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def changed_phone(self, member_ids: Collection[int]) -> bool:
        """Whether any of ``member_ids`` ever changed their phone number themselves (the audit
        row ``member.profile_changed`` with ``field`` phone; it holds no number)."""
        result = await self._s.execute(
            select(AuditEntry.id)
            .where(
                AuditEntry.member_id.in_(list(member_ids)),
                AuditEntry.action == "member.profile_changed",
                AuditEntry.details["field"].as_string() == "phone",
            )
            .limit(1)
        )
        return result.first() is not None

    async def referrals_paid(self, referrer_id: int, since: datetime) -> int:
        """Referral bonuses paid to ``referrer_id`` as the inviting friend since ``since`` (the
        ledger entries keyed ``referral:<referee id>:referrer``).

        Locks the referrer's row until the transaction ends, so that two referrals of one friend
        are counted one after the other (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
        serialises every writing transaction) and a monthly cap cannot be overshot.
        """
        await self._s.execute(select(Member.id).where(Member.id == referrer_id).with_for_update())
        result = await self._s.execute(
            select(func.count(PointsEntry.id)).where(
                PointsEntry.member_id == referrer_id,
                PointsEntry.reason == "referral",
                PointsEntry.idempotency_key.like("referral:%:referrer"),
                PointsEntry.earned_at >= since,
            )
        )
        return int(result.scalar_one())

    async def identity_on(self, member_id: int, channel: str) -> ChannelIdentity | None:
        result = await self._s.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.member_id == member_id, ChannelIdentity.channel == channel)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def has_identity(self, member_id: int) -> bool:
        result = await self._s.execute(
            select(ChannelIdentity.id).where(ChannelIdentity.member_id == member_id).limit(1)
        )
        return result.first() is not None

    async def imported_by_phone(self, phone_e164: str) -> Member | None:
        """The member with this phone when nobody has claimed it in chat yet (an imported row)."""
        result = await self._s.execute(
            select(Member).where(Member.phone == phone_e164, Member.erased_at.is_(None))
        )
        member = result.scalar_one_or_none()
        if member is None or await self.has_identity(member.id):
            return None
        return member

    # -- one-time codes ---------------------------------------------------------------------

    async def create_code(
        self, code: str, purpose: str, member_id: int, now: datetime, expires_at: datetime
    ) -> OneTimeCode:
        row = OneTimeCode(
            code_hash=hash_one_time_code(code),
            purpose=purpose,
            member_id=member_id,
            created_at=now,
            expires_at=expires_at,
        )
        self._s.add(row)
        await self._s.flush()
        return row

    async def withdraw_codes(self, member_id: int, purpose: str, now: datetime) -> None:
        """Make the member's unused codes of ``purpose`` unusable (a newer one replaces them)."""
        await self._s.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.member_id == member_id,
                OneTimeCode.purpose == purpose,
                OneTimeCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def peek_code(self, code: str, purpose: str, now: datetime) -> OneTimeCode | None:
        """The code if it is known, unused and not expired; nothing is changed."""
        result = await self._s.execute(
            select(OneTimeCode).where(
                OneTimeCode.code_hash == hash_one_time_code(code),
                OneTimeCode.purpose == purpose,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
            )
        )
        return result.scalar_one_or_none()

    async def code_for(self, code: str, purpose: str) -> int | None:
        """The member id the code was made for, used, withdrawn or expired alike (None when
        no such code was ever made); nothing is changed."""
        result = await self._s.execute(
            select(OneTimeCode.member_id).where(
                OneTimeCode.code_hash == hash_one_time_code(code), OneTimeCode.purpose == purpose
            )
        )
        return result.scalar_one_or_none()

    async def use_code(self, hashed: str, purpose: str, now: datetime) -> int | None:
        """Spend a code (by its hash); the member id it was for, or None if it cannot be used."""
        result = await self._s.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.code_hash == hashed,
                OneTimeCode.purpose == purpose,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(OneTimeCode.member_id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none()

    async def forget_codes(self, expired_by: datetime, limit: int = BATCH) -> int:
        """Delete at most ``limit`` codes that expired by ``expired_by`` (used, withdrawn or
        not); how many."""
        expired = OneTimeCode.expires_at <= expired_by
        return await delete_some(self._s, OneTimeCode, expired, limit)
