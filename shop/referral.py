"""Referral rewards: a member who joined with a friend's code (``Member.referred_by_code``)
earns the friend and themselves ``referral_points`` each at their first purchase.

Exactly once, whatever is delivered twice: both ledger entries carry idempotency keys
(``referral:<referee id>:referee`` / ``:referrer``), and they are written inside a savepoint,
so a concurrent first sale that lost the race on the unique key only loses the bonus, never
the sale. Self-referral and loops (A joined with B's code, B with A's) pay nothing.

Not farmable (issue 15): a second account of the same person costs a real purchase or a real
phone. The bonus is paid only for a referee whose phone the platform verified (Telegram's
own-contact share) or whose first purchase reaches ``referral_min_purchase``; a verification
stops counting once either member changed their phone number in chat (the number the referee
verified may be one the referrer gave up, and the shop keeps no old numbers to compare); one
referrer earns at most ``referral_monthly_cap`` bonuses per calendar month of shop time. Two
members never share a phone or a chat account at one time (both are unique, and only erasure
frees them, after which the erased referrer earns nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from shop.loyalty import LoyaltyRules, load_rules
from shop.notices import queue_member_notice
from storage.errors import ConstraintViolation
from storage.models import Member, Sale
from storage.uow import UnitOfWork

#: the outbox payloads telling (the new member, the friend who invited them) about a bonus of
#: ``points`` each, each in their own language (``wording.referral.referral_notices``)
ReferralNotices = Callable[[Member, Member, int], tuple[dict[str, Any], dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ReferralPayout:
    referee_id: int
    referrer_id: int
    points: int


def referral_key(referee_id: int, side: str) -> str:
    """The idempotency key of one side (``referee`` / ``referrer``) of a referral bonus."""
    return f"referral:{referee_id}:{side}"


async def valid_referrer(uow: UnitOfWork, code: str | None, member_code: str) -> Member | None:
    """The member behind a referral ``code`` for the member ``member_code``, or None when
    there is none to reward: unknown or erased, the member themselves, or a loop."""
    if not code:
        return None
    referrer = await uow.members.by_code(code)
    if referrer is None or referrer.erased_at is not None:
        return None
    if referrer.member_code == member_code or referrer.referred_by_code == member_code:
        return None
    return referrer


async def pay_referral_if_first_purchase(
    uow: UnitOfWork,
    member: Member,
    sale: Sale,
    now: datetime,
    *,
    notices: ReferralNotices,
    actor: str = "system",
    channel: str | None = None,
    tz: tzinfo = UTC,
) -> ReferralPayout | None:
    """Pay the referral bonus if ``sale`` is the first non-voided purchase of ``member`` (none
    happened before it) and the referral is one the shop pays for (see the module docstring).

    Safe to call after every recorded sale (chat or import): it pays nothing for a member
    without a referrer, for a later sale, for a voided sale, when the bonus was paid before,
    for an unverified referee's first purchase below the minimum, or for a referrer who has
    reached this month's cap (months in ``tz``, the shop's zone). Call it in the unit of work
    that recorded the sale, after the sale row is flushed; ``actor`` and ``channel`` go to the
    audit row (``ctx.actor``, ``ctx.channel`` in a handler). Both members are told through the
    outbox with the payloads ``notices`` words.
    """
    referrer = await _referrer_of_first_sale(uow, member, sale)
    if referrer is None:
        return None
    rules = await load_rules(uow)
    points = rules.referral_points
    if points <= 0 or not await _payable(uow, member, referrer, sale, rules, now.astimezone(tz)):
        return None
    try:
        async with uow.savepoint():
            paid = await _pay(uow, member, referrer, sale, points, now, notices)
            if paid is not None:
                await uow.audit.record(
                    actor,
                    "referral.paid",
                    now,
                    member_id=member.id,
                    channel=channel,
                    referrer_id=referrer.id,
                    points=points,
                    sale_id=sale.id,
                    referee_balance=await uow.points.balance(member.id),
                    referrer_balance=await uow.points.balance(referrer.id),
                )
    except ConstraintViolation:  # a concurrent first sale wrote the same keys first
        return None
    return paid


async def _referrer_of_first_sale(uow: UnitOfWork, member: Member, sale: Sale) -> Member | None:
    """The friend to reward when ``sale`` is the referred ``member``'s first live purchase."""
    if not member.referred_by_code or member.erased_at is not None:
        return None
    if sale.member_id != member.id or sale.voided_at is not None:
        return None
    if await uow.people.sales_before(sale) > 0:
        return None
    return await valid_referrer(uow, member.referred_by_code, member.member_code)


async def _payable(
    uow: UnitOfWork,
    member: Member,
    referrer: Member,
    sale: Sale,
    rules: LoyaltyRules,
    local_now: datetime,
) -> bool:
    """Whether the shop pays for this referral: a proven referee, and room under the cap."""
    if _numbers(member) & _numbers(referrer):  # one person's two accounts, whatever the amount
        return False
    # a verification stops counting once either changed number: the verified one may be a
    # number the referrer gave up, and the shop keeps no old numbers to compare
    small = sale.amount < rules.referral_min_purchase
    if small and (
        not member.phone_verified or await uow.people.changed_phone((member.id, referrer.id))
    ):
        return False
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    paid = await uow.people.referrals_paid(referrer.id, month_start.astimezone(UTC))
    return paid < rules.referral_monthly_cap


def _numbers(member: Member) -> set[str]:
    """Every number the member gave, linked or kept unlinked (another member holds it)."""
    return {number for number in (member.phone, member.phone_unlinked) if number}


async def _pay(
    uow: UnitOfWork,
    member: Member,
    referrer: Member,
    sale: Sale,
    points: int,
    now: datetime,
    notices: ReferralNotices,
) -> ReferralPayout | None:
    # No sale_id on these entries: a later void of the sale reverses the sale's own points,
    # not the friend's bonus, which stays paid (it rewarded joining and buying once).
    first = await uow.points.append(
        member.id,
        points,
        "referral",
        now,
        note=f"joined with {referrer.member_code}; receipt {sale.receipt_no}"[:200],
        idempotency_key=referral_key(member.id, "referee"),
    )
    if first is None:
        return None
    second = await uow.points.append(
        referrer.id,
        points,
        "referral",
        now,
        note=f"invited {member.member_code}",
        idempotency_key=referral_key(member.id, "referrer"),
    )
    if second is None:  # cannot happen without the first key; never pay one side twice
        return None
    to_member, to_referrer = notices(member, referrer, points)
    await _tell(uow, member, to_member, now, key=referral_key(member.id, "referee"))
    await _tell(uow, referrer, to_referrer, now, key=referral_key(member.id, "referrer"))
    return ReferralPayout(referee_id=member.id, referrer_id=referrer.id, points=points)


async def _tell(
    uow: UnitOfWork, member: Member, payload: dict[str, Any], now: datetime, key: str
) -> None:
    """Queue ``payload`` on the member's preferred reachable chat account, once per ``key``."""
    await queue_member_notice(uow, member.id, payload, key, now)
