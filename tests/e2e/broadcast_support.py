"""Campaign-sized outboxes for the delivery tests: many promotional rows, a real clock.

The dispatcher in these tests runs on the system clock (rate limits and ``retry_after`` are
real seconds), so rows are queued at the real "now" and the quiet hours are switched off: the
tests must not depend on the hour at which they run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.clock import SystemClock
from bot.core.messages import Button, Reply
from bot.core.wire import replies_to_payload
from shop.contact_policy import SETTINGS_KEY
from storage.models import Campaign, CampaignMember, Member, OutboxMessage
from storage.raw_session import session_of

NO_QUIET_HOURS = {"quiet_hours": ["00:00", "00:00"]}


def promotion(text: str = "Khun Ploy, 1-get-1 milk tea Mon-Fri 14-16") -> Reply:
    return Reply(text=text, buttons=(Button("Get the coupon", "cmp:1"),))


async def add_campaign(app: App, name: str = "Weekday afternoons") -> int:
    async with app.uow() as uow:
        campaign = Campaign(
            name=name,
            segment_name="five",
            rule="branch in (asoke)",
            message="{name}, 1-get-1",
            status="sending",
            created_by="test",
            created_at=datetime.now(UTC),
        )
        await uow.campaigns.add(campaign)
        await uow.commit()
        return campaign.id


async def queue_promotions(
    app: App,
    channel: str,
    user_ids: Sequence[str],
    *,
    campaign_id: int = 1,
    personalised: bool = False,
    members: bool = False,
) -> None:
    """One promotional row per user (``cmp:<campaign>:<n>``), due now; quiet hours off.

    With ``members``, each user is a member with that chat account and a row of the campaign's
    audience snapshot (``campaign_id`` must then be a real campaign).
    """
    now = SystemClock().now()
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, NO_QUIET_HOURS, now)
        same = replies_to_payload([promotion()])
        for n, user_id in enumerate(user_ids, start=1):
            payload = replies_to_payload([promotion(f"Hi {user_id}")]) if personalised else same
            member_id = None
            if members:  # a consenting member with this chat account, whose id is in the key
                member = Member(name=f"M{n}", locale="th", joined_at=now, marketing_opt_in=True)
                member = await uow.members.add(member)
                identity = await uow.identities.touch(channel, user_id, now)
                identity.member_id = member_id = member.id
            key = f"cmp:{campaign_id}:{member_id or n}"
            await uow.outbox.enqueue(
                key, channel, user_id, payload, now, member_id=member_id, promotional=True
            )
            if member_id is not None:  # the audience snapshot, as starting a campaign writes
                session_of(uow).add(
                    CampaignMember(
                        campaign_id=campaign_id,
                        member_id=member_id,
                        group="recipient",
                        channel=channel,
                        outbox_key=key,
                    )
                )
        await uow.commit()


async def statuses(app: App) -> dict[str, int]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: int(n) for status, n in result.all()}


async def until_drained(app: App, seconds: float) -> None:
    """Wait until no row is pending; fails the test after ``seconds``."""
    for _ in range(int(seconds / 0.2)):
        if not (await statuses(app)).get("pending", 0):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"rows still pending after {seconds} s: {await statuses(app)}")
