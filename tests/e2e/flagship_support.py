"""The flagship shop of SPEC §2 for the end-to-end tests on each channel.

A tea shop with the five branches plus one more (Siam), members who visited them a few weeks
ago, and the campaign the owner builds: segment of the five branches, 1-get-1 Mon–Fri
14:00–16:00, personalised with the member's name, 10% hold-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final

from bot.bootstrap import App
from bot.core.messages import Channel
from shop.campaigns.launch import in_holdout
from storage.models import Sale
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
            uow.session.add(
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
