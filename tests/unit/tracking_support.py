"""Hand-built campaigns for tracking and stats tests: rows written straight to the tables, so a
test states exactly who got what, and the expected numbers can be counted by hand."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.bootstrap import App
from storage.models import (
    Campaign,
    CampaignMember,
    ContactEvent,
    Coupon,
    Member,
    OutboxMessage,
    Sale,
)
from storage.raw_session import session_of
from tests.unit.staff_support import ensure_branch

_receipts = itertools.count(1)
_phones = itertools.count(1)


async def add_campaign(
    app: App,
    started_at: datetime | None,
    *,
    name: str = "Afternoon 1-get-1",
    offer: dict[str, Any] | None = None,
    status: str = "sent",
    line_price: Decimal = Decimal(0),
    offer_cost: Decimal = Decimal(0),
) -> int:
    async with app.uow() as uow:
        campaign = Campaign(
            name=name,
            segment_name="five_branches",
            rule="branch in (asoke)",
            message="Hi {name}",
            button_label="Get it",
            offer=offer,
            holdout_pct=10,
            attribution_days=7,
            status=status,
            started_at=started_at,
            line_message_price=line_price,
            offer_cost=offer_cost,
            created_by="test",
            created_at=started_at or app.clock.now(),
        )
        session_of(uow).add(campaign)
        await uow.flush()
        campaign_id = campaign.id
        await uow.commit()
    return campaign_id


async def add_member(app: App, name: str = "m") -> int:
    async with app.uow() as uow:
        member = await uow.members.add(
            Member(
                name=name,
                phone=f"+6681{next(_phones):07d}",
                locale="th",
                joined_at=app.clock.now() - timedelta(days=400),
                marketing_opt_in=True,
                points_balance=0,
            )
        )
        member_id = member.id
        await uow.commit()
    return member_id


@dataclass
class AudienceRow:
    member_id: int
    group: str = "recipient"
    channel: str = "telegram"
    excluded: str | None = None
    #: outbox status of the message (None: no outbox row)
    status: str | None = "sent"
    sent_at: datetime | None = None
    clicked_at: datetime | None = None
    claimed_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def add_audience(app: App, campaign_id: int, rows: list[AudienceRow]) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        for row in rows:
            key = None
            if row.group == "recipient" and row.status is not None:
                key = f"cmp:{campaign_id}:{row.member_id}"
                session_of(uow).add(
                    OutboxMessage(
                        dedupe_key=key,
                        channel=row.channel,
                        user_id=f"u{row.member_id}",
                        member_id=row.member_id,
                        promotional=True,
                        payload={},
                        status=row.status,
                        attempts=1,
                        not_before=now,
                        created_at=now,
                        sent_at=row.sent_at if row.status == "sent" else None,
                    )
                )
            session_of(uow).add(
                CampaignMember(
                    campaign_id=campaign_id,
                    member_id=row.member_id,
                    group=row.group,
                    channel=row.channel,
                    excluded=row.excluded,
                    outbox_key=key,
                    clicked_at=row.clicked_at,
                    claimed_at=row.claimed_at,
                )
            )
        await uow.commit()


async def add_sale(
    app: App, member_id: int, amount: str, at: datetime, *, voided: bool = False
) -> None:
    branch_id = await ensure_branch(app, "asoke")
    async with app.uow() as uow:
        session_of(uow).add(
            Sale(
                receipt_no=f"R{next(_receipts)}",
                member_id=member_id,
                branch_id=branch_id,
                amount=Decimal(amount),
                occurred_at=at,
                voided_at=at + timedelta(minutes=5) if voided else None,
            )
        )
        await uow.commit()


async def add_coupon(
    app: App, campaign_id: int, member_id: int, *, redeemed_at: datetime | None = None
) -> int:
    now = app.clock.now()
    async with app.uow() as uow:
        coupon = Coupon(
            code=f"TEST{campaign_id:03d}{member_id:06d}"[:13],
            member_id=member_id,
            campaign_id=campaign_id,
            title_th="ซื้อ 1 แถม 1",
            title_en="1-get-1",
            status="redeemed" if redeemed_at else "issued",
            issued_at=now - timedelta(days=9),
            expires_at=now + timedelta(days=30),
            redeemed_at=redeemed_at,
        )
        session_of(uow).add(coupon)
        await uow.flush()
        coupon_id = coupon.id
        await uow.commit()
    return coupon_id


async def add_contact_event(app: App, member_id: int, kind: str, at: datetime) -> None:
    async with app.uow() as uow:
        session_of(uow).add(
            ContactEvent(member_id=member_id, channel="line", kind=kind, occurred_at=at)
        )
        await uow.commit()


@dataclass(frozen=True)
class Groups:
    """A campaign's members by what became of their message (:func:`add_groups`)."""

    campaign: int
    sent: list[int]
    waiting: list[int]
    held: list[int]


async def add_groups(
    app: App,
    started_at: datetime,
    sent: int,
    held: int,
    *,
    waiting: int = 0,
    **campaign: Any,
) -> Groups:
    """A campaign (``campaign``: :func:`add_campaign`'s fields) started at ``started_at``:
    ``sent`` recipients sent to then, ``waiting`` recipients still pending, ``held`` hold-out
    members; each a new member."""
    campaign_id = await add_campaign(app, started_at, **campaign)
    done = [await add_member(app) for _ in range(sent)]
    pending = [await add_member(app) for _ in range(waiting)]
    kept = [await add_member(app) for _ in range(held)]
    await add_audience(
        app,
        campaign_id,
        [AudienceRow(m, sent_at=started_at) for m in done]
        + [AudienceRow(m, status="pending") for m in pending]
        + [AudienceRow(m, group="holdout", status=None) for m in kept],
    )
    return Groups(campaign_id, done, pending, kept)
