"""Helpers for the referral, link and claim tests: sales rows and ledger reads."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from bot.bootstrap import App
from shop.referral import ReferralPayout, pay_referral_if_first_purchase
from storage.models import Member, PointsEntry, Sale
from storage.raw_session import session_of
from storage.uow import UnitOfWork
from tests.chat import Chat
from tests.unit.staff_support import ensure_branch
from wording.referral import referral_notices

_receipts = itertools.count(1)


async def add_sale(
    uow: UnitOfWork, member_id: int, branch_id: int, amount: str, when: datetime
) -> Sale:
    sale = Sale(
        receipt_no=f"R{next(_receipts)}",
        member_id=member_id,
        branch_id=branch_id,
        amount=Decimal(amount),
        occurred_at=when,
        used_coupon=False,
    )
    session_of(uow).add(sale)
    await uow.flush()
    return sale


async def first_sale_then_referral(
    app: App, member_id: int, amount: str = "100", branch: str = "asoke"
) -> ReferralPayout | None:
    """Record a sale for the member and call the referral hook, in one committed unit."""
    branch_id = await ensure_branch(app, branch)
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        sale = await add_sale(uow, member_id, branch_id, amount, app.clock.now())
        paid = await pay_referral_if_first_purchase(
            uow, member, sale, app.clock.now(), notices=referral_notices
        )
        await uow.commit()
    return paid


async def referral_entries(app: App) -> list[tuple[int, int, str | None]]:
    """(member id, delta, idempotency key) of every referral entry, in order."""
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(PointsEntry).where(PointsEntry.reason == "referral").order_by(PointsEntry.id)
        )
        return [(e.member_id, e.delta, e.idempotency_key) for e in result.scalars()]


async def balance(app: App, member_id: int) -> int:
    async with app.uow() as uow:
        return await uow.points.balance(member_id)


async def count_members(app: App) -> int:
    async with app.uow() as uow:
        return int((await session_of(uow).execute(select(func.count(Member.id)))).scalar_one())


async def set_referrer(app: App, member_id: int, code: str | None) -> None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        member.referred_by_code = code
        await uow.commit()


async def join_sharing_contact(chat: Chat, name: str, phone: str, start: str) -> None:
    """The whole sign-up, answering the phone step with the person's own contact (Telegram's
    share button), so the platform vouches for the number."""
    await chat.say(start)
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say(name)
    await chat.share_contact(phone)
    await chat.say("01/05/2535")
    replies = await chat.press("su:g:female")
    if any(b.action.startswith("su:b:") for r in replies for b in r.buttons):
        await chat.press("su:b:skip")
