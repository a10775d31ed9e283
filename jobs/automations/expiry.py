"""Points expiry: the expiry itself, and a reminder ``remind_days`` before (default 30).

Both are transactional (they concern points the member owns), so the contact policy does not
apply: a member who used ``/stop`` is still told their points are about to expire.

- Expiry: every member holding a lot older than the expiry period gets
  :func:`handlers.loyalty_ops.expire_points` (first in, first out, never below zero, one entry
  per member per day).
- Reminder: members with a lot expiring on the shop day ``today + remind_days`` are told the
  amount expiring that day and the date (Buddhist Era in Thai). The outbox key
  ``autoexp:<member>:<date>`` makes it once per member per expiry date, however often the job
  runs. Reminders are notices, not promotions: they have no campaign row and no hold-out (we do
  not withhold from a member the news that their points are expiring).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_date, format_points, t
from handlers.loyalty import add_months, load_rules, unspent_lots
from handlers.loyalty_ops import expire_points
from jobs.automations.common import automation_config, shop_day
from storage.models import Member, PointsEntry
from storage.uow import UnitOfWork

NAME: Final = "expiry"


def reminder_key(member_id: int, day: date) -> str:
    return f"autoexp:{member_id}:{day.isoformat()}"


async def _holders(
    uow: UnitOfWork, earned_from: datetime | None, earned_before: datetime
) -> list[int]:
    """Members with a positive balance and a credit earned in ``[earned_from, earned_before)``."""
    credit = exists().where(
        PointsEntry.member_id == Member.id,
        PointsEntry.delta > 0,
        PointsEntry.earned_at < earned_before,
        *([PointsEntry.earned_at >= earned_from] if earned_from is not None else []),
    )
    result = await uow.session.execute(
        select(Member.id)
        .where(Member.points_balance > 0, Member.erased_at.is_(None), credit)
        .order_by(Member.id)
    )
    return list(result.scalars().all())


async def run_expiry(app: App) -> dict[str, int]:
    """Expire what is due and queue today's reminders; one transaction, idempotent per day."""
    now, tz = app.clock.now(), app.settings.tz
    expired = members_expired = reminded = 0
    async with app.uow() as uow:
        config = await automation_config(uow, NAME)
        rules = await load_rules(uow)
        for member_id in await _holders(uow, None, add_months(now, -rules.expiry_months)):
            points = await expire_points(uow, member_id=member_id, now=now, rules=rules)
            if points:
                expired += points
                members_expired += 1
        if config["enabled"]:
            target = shop_day(now, tz) + timedelta(days=int(config["remind_days"]))
            reminded = await _remind(uow, target, now, tz, rules.expiry_months)
        await uow.commit()
    return {"expired_points": expired, "expired_members": members_expired, "reminded": reminded}


async def _remind(
    uow: UnitOfWork, target: date, now: datetime, tz: ZoneInfo, expiry_months: int
) -> int:
    start = datetime.combine(target, time(), tzinfo=tz)
    end = start + timedelta(days=1)
    # a lot expires ``expiry_months`` after it was earned: those earned this window end on target
    holders = await _holders(
        uow, add_months(start, -expiry_months), add_months(end, -expiry_months)
    )
    reminded = 0
    for member_id in holders:
        lots = unspent_lots(await uow.points.entries(member_id), expiry_months)
        due = sum(lot.remaining for lot in lots if start <= lot.expires_at < end)
        if due <= 0:
            continue
        member = await uow.members.get(member_id)
        identity = await uow.identities.preferred(member_id)
        if member is None or identity is None:
            continue
        locale = member.locale or "th"
        text = t(
            locale,
            "auto.expiry_reminder",
            points=format_points(due),
            date=format_date(target, locale),
        )
        if await uow.outbox.enqueue(
            reminder_key(member_id, target),
            identity.channel,
            identity.user_id,
            replies_to_payload([Reply(text=text)]),
            now,
            member_id=member_id,
        ):
            reminded += 1
    return reminded
