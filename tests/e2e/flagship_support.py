"""The flagship shop of SPEC §2 for the end-to-end tests on each channel.

A tea shop with the five branches plus one more (Siam), members who visited them a few weeks
ago, and the campaign the owner builds: segment of the five branches, 1-get-1 Mon–Fri
14:00–16:00, personalised with the member's name, 10% hold-out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final, Protocol, TypeVar

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.keys import promotion_action
from bot.core.messages import Channel
from shop.campaigns.launch import in_holdout
from shop.campaigns.stats import CampaignStats, compute_stats
from storage.models import Campaign, Coupon, Sale
from storage.raw_session import session_of
from tests.unit.staff_support import ensure_branches, make_member

FIVE: Final = ("asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng")
SEGMENT_COMMAND: Final = "/segment new tea5 branch in (" + ", ".join(FIVE) + ")"
MESSAGE: Final = "คุณ{name} รับ{coupon} จันทร์–ศุกร์ 14:00–16:00 เฉพาะคุณ ถึง {expires}"
#: typed answers of the campaign wizard after the offer kind button, in order
OFFER_ANSWERS: Final = ("1-1", "-", "7", "mon-fri 14:00-16:00", "-", "40")


@dataclass
class FlagshipMember:
    member_id: int
    member_code: str
    user_id: str
    name: str


async def build_shop(app: App, channel: Channel, user_ids: list[str]) -> list[FlagshipMember]:
    """Members linked to ``user_ids`` on ``channel``; all but the last four visited one of the
    five branches three weeks ago, the last four only Siam (outside the segment)."""
    branches = await ensure_branches(app, (*FIVE, "siam"))
    members: list[FlagshipMember] = []
    visited = app.clock.now() - timedelta(days=21)
    for n, user_id in enumerate(user_ids):
        name = f"Ploy{n}"
        member = await make_member(
            app, name, f"081{n:07d}", user_id=user_id, channel=channel, locale="th"
        )
        branch = "siam" if n >= len(user_ids) - 4 else FIVE[n % len(FIVE)]
        async with app.uow() as uow:
            session_of(uow).add(
                Sale(
                    receipt_no=f"OLD-{n}",
                    member_id=member.id,
                    branch_id=branches[branch],
                    amount=Decimal(120),
                    occurred_at=visited,
                    source="import",
                )
            )
            await uow.commit()
        members.append(FlagshipMember(member.id, member.member_code, user_id, name))
    return members


def split(campaign_id: int, members: list[FlagshipMember]) -> tuple[list[FlagshipMember], ...]:
    """(recipients, hold-out) of the segment's members as the 10% hold-out will split them."""
    in_segment = members[:-4]
    held = [m for m in in_segment if in_holdout(campaign_id, m.member_id, 10)]
    sent = [m for m in in_segment if m not in held]
    return sent, held


#: a chat account's id on the channel under test (Telegram: a number, LINE: a string)
UserId = TypeVar("UserId", contravariant=True)


class Chat(Protocol[UserId]):
    """Someone typing and pressing buttons on the channel under test; returns the replies."""

    async def say(self, user_id: UserId, text: str) -> str: ...

    async def press(self, user_id: UserId, data: str) -> str: ...


async def owner_builds_the_campaign(app: App, chat: Chat[UserId], owner: UserId) -> tuple[str, int]:
    """The owner saves the five-branch segment and walks the campaign wizard to a saved,
    not yet sent campaign; returns (the reply to the segment command, the campaign's id)."""
    segment_reply = await chat.say(owner, SEGMENT_COMMAND)
    await chat.say(owner, "/campaign new Weekday afternoons")
    await chat.say(owner, "tea5")
    await chat.say(owner, MESSAGE)
    await chat.press(owner, "cmpw:offer:buy_x_get_y")
    for answer in OFFER_ANSWERS:
        await chat.say(owner, answer)
    await chat.say(owner, "-")
    await chat.press(owner, "cmpw:when:now")
    await chat.say(owner, "10")
    async with app.uow() as uow:
        campaign_id = (await session_of(uow).execute(select(Campaign.id))).scalar_one()
    return segment_reply, campaign_id


async def members_claim(
    app: App,
    chat: Chat[UserId],
    claimers: Sequence[FlagshipMember],
    campaign_id: int,
    user: Callable[[FlagshipMember], UserId],
) -> list[Coupon]:
    """Each of ``claimers`` presses the promotion's button; returns every coupon, by member."""
    for member in claimers:
        await chat.press(user(member), promotion_action(campaign_id))
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(Coupon).order_by(Coupon.member_id))
        return list(result.scalars().all())


async def cashier_records_visits(
    chat: Chat[UserId],
    cashier: UserId,
    coupons: Sequence[Coupon],
    recipients: Sequence[FlagshipMember],
    holdout: Sequence[FlagshipMember],
) -> None:
    """Four coupons redeemed; five recipients buy for 150 baht, two held-out members for 100."""
    for coupon in coupons[:4]:
        await chat.say(cashier, f"/redeem {coupon.code}")
    for n, member in enumerate(recipients[:5]):
        await chat.say(cashier, f"/sale {member.member_code} 150 receipt=FL-R{n}")
    for n, member in enumerate(holdout[:2]):
        await chat.say(cashier, f"/sale {member.member_code} 100 receipt=FL-H{n}")


async def stats_a_week_later(app: App, clock: FrozenClock, campaign_id: int) -> CampaignStats:
    """The campaign's stats once its attribution week has passed."""
    clock.advance(timedelta(days=7))
    async with app.uow() as uow:
        return await compute_stats(uow, campaign_id, clock.now())
