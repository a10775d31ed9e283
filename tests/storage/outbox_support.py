"""Rows the outbox tests need: members with chat accounts, staff, queued messages, campaigns."""

from __future__ import annotations

from datetime import datetime

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from storage.models import Branch, Campaign, Member, Staff
from storage.raw_session import session_of


async def add_member(
    app: App, accounts: list[tuple[str, str, datetime]], locale: str = "th"
) -> int:
    """A member with chat ``accounts`` given as (channel, user id, last seen)."""
    async with app.uow() as uow:
        now = app.clock.now()
        member = await uow.members.add(Member(name="Ploy", locale=locale, joined_at=now))
        for channel, user_id, seen in accounts:
            identity = await uow.identities.touch(channel, user_id, seen)
            identity.member_id = member.id
            identity.last_seen_at = seen
        await uow.commit()
        return member.id


async def add_branch(app: App, code: str) -> int:
    async with app.uow() as uow:
        branch = Branch(code=code, name_th=code, name_en=code, active=True)
        session_of(uow).add(branch)
        await uow.commit()
        return branch.id


async def add_staff(
    app: App,
    channel: str,
    user_id: str,
    role: str,
    branch_id: int | None = None,
    active: bool = True,
) -> int:
    async with app.uow() as uow:
        staff = Staff(
            channel=channel,
            user_id=user_id,
            name=user_id,
            role=role,
            branch_id=branch_id,
            active=active,
            created_at=app.clock.now(),
        )
        session_of(uow).add(staff)
        await uow.commit()
        return staff.id


async def queue(
    app: App, key: str, channel: str = "telegram", user_id: str = "1", text: str = "hi"
) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text=text)])
        await uow.outbox.enqueue(key, channel, user_id, payload, app.clock.now())
        await uow.commit()


async def sending_campaign(app: App) -> int:
    """A campaign being sent (its rows' keys are ``cmp:<id>:<member>``)."""
    async with app.uow() as uow:
        campaign = await uow.campaigns.add(
            Campaign(
                name="c",
                kind="campaign",
                segment_name="all",
                rule="points >= 0",
                message="m",
                holdout_pct=0,
                status="sending",
                created_by="test",
                created_at=app.clock.now(),
            )
        )
        await uow.commit()
        return campaign.id


async def campaign_status(app: App, campaign_id: int) -> str:
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
    assert campaign is not None
    return campaign.status
