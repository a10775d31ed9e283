from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consent, Member, Sale, table_of

#: no 0/O, 1/I/L: a cashier reads these aloud and types them
#: built once: a sale and a sign-up look a member up by phone, a new member's code is checked
_BY_PHONE: Final = select(Member).where(Member.phone == bindparam("phone"))
_BY_CODE: Final = select(Member).where(Member.member_code == bindparam("code"))
#: built once: a Core INSERT, not an object for the session to flush (a sign-up records two)
_CONSENT: Final = insert(table_of(Consent))
_SALES: Final = table_of(Sale).c
#: built once, of the table (a Core statement): every sale reads the member's spend for its tier
_SPEND_SINCE: Final = select(func.coalesce(func.sum(_SALES.amount), 0)).where(
    _SALES.member_id == bindparam("member_id"),
    _SALES.voided_at.is_(None),
    _SALES.occurred_at >= bindparam("since"),
)

CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 8


#: byte -> code character for the bytes below the largest multiple of the alphabet's size; the
#: bytes above it are deleted (rejection sampling), so every character stays equally likely
_FAIR_BYTES: Final = len(CODE_ALPHABET) * (256 // len(CODE_ALPHABET))
_BYTE_TO_CODE: Final = bytes(ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) for b in range(256))
_UNFAIR_BYTES: Final = bytes(range(_FAIR_BYTES, 256))


def new_member_code() -> str:
    """A random code of CODE_LENGTH characters from CODE_ALPHABET (uniform, system random).

    One ``token_bytes`` call per code: bulk imports draw tens of thousands of codes, and a
    system-random call per character dominated their run time.
    """
    while True:
        # 2x the length: with 8/256 of bytes rejected, a shortfall is rare (and redrawn)
        drawn = secrets.token_bytes(2 * CODE_LENGTH).translate(_BYTE_TO_CODE, _UNFAIR_BYTES)
        if len(drawn) >= CODE_LENGTH:
            return drawn[:CODE_LENGTH].decode("ascii")


class Members:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, member_id: int) -> Member | None:
        return await self._s.get(Member, member_id)

    async def hold_unerased(self, member_id: int) -> bool:
        """Whether the member exists and is not erased, as committed now, holding their row
        (PostgreSQL: ``FOR KEY SHARE``) until this unit of work ends: an erasure in progress
        (it locks the row ``FOR UPDATE`` first) is waited for and then seen, and one that
        comes later waits for this unit of work. SQLite has one writer anyway."""
        held = select(Member.erased_at).where(Member.id == member_id)
        result = await self._s.execute(held.with_for_update(key_share=True))
        row = result.first()
        return row is not None and row.erased_at is None

    async def newest(self, branch_id: int | None = None) -> Member | None:
        """The member who joined last and was not erased (an example for a preview); with
        ``branch_id``, the newest whose home branch it is."""
        query = select(Member).where(Member.erased_at.is_(None))
        if branch_id is not None:
            query = query.where(Member.home_branch_id == branch_id)
        query = query.order_by(Member.joined_at.desc(), Member.id.desc()).limit(1)
        return (await self._s.execute(query)).scalar_one_or_none()

    async def by_code(self, code: str) -> Member | None:
        result = await self._s.execute(_BY_CODE, {"code": code.upper()})
        return result.scalar_one_or_none()

    async def by_phone(self, phone_e164: str) -> Member | None:
        result = await self._s.execute(_BY_PHONE, {"phone": phone_e164})
        return result.scalar_one_or_none()

    async def phone_holder(self, phone_e164: str) -> int | None:
        """The id of the member whose (linked) number ``phone_e164`` is, if any."""
        return await self._s.scalar(select(Member.id).where(Member.phone == phone_e164))

    async def reload(self, member: Member) -> None:
        """Read ``member`` again from the database (after a savepoint undid a change to it)."""
        await self._s.refresh(member)

    async def add(self, member: Member) -> Member:
        """Insert with a fresh member code (retried on the rare collision)."""
        for _ in range(10):
            code = new_member_code()
            if await self.by_code(code) is None:
                member.member_code = code
                break
        self._s.add(member)
        await self._s.flush()
        return member

    async def record_consent(
        self,
        member_id: int,
        purpose: str,
        granted: bool,
        wording_version: str,
        channel: str,
        now: datetime,
    ) -> None:
        values = {"member_id": member_id, "purpose": purpose, "granted": granted}
        values |= {"wording_version": wording_version, "channel": channel, "recorded_at": now}
        await self._s.execute(_CONSENT, values)

    async def consents(self, member_id: int) -> Sequence[Consent]:
        result = await self._s.execute(
            select(Consent).where(Consent.member_id == member_id).order_by(Consent.id)
        )
        return result.scalars().all()

    async def sales(self, member_id: int, limit: int = 10) -> Sequence[Sale]:
        result = await self._s.execute(
            select(Sale)
            .where(Sale.member_id == member_id, Sale.voided_at.is_(None))
            .order_by(Sale.occurred_at.desc(), Sale.id.desc())
            .limit(limit)
        )
        return result.scalars().all()

    async def all_sales(self, member_id: int) -> Sequence[Sale]:
        result = await self._s.execute(
            select(Sale).where(Sale.member_id == member_id).order_by(Sale.occurred_at, Sale.id)
        )
        return result.scalars().all()

    async def spend_since(self, member_id: int, since: datetime) -> Decimal:
        result = await self._s.execute(_SPEND_SINCE, {"member_id": member_id, "since": since})
        # The sum keeps the column's Money type, so it comes back already converted to baht.
        return Decimal(result.scalar_one()).quantize(Decimal("0.01"))


def audience_of(member_ids: Collection[int]) -> Select[Any]:
    """The select of exactly these members' ids: an audience of named members (a notice to one
    member, say) in the form a campaign enrolment takes."""
    return select(Member.id).where(Member.id.in_(list(member_ids)))
