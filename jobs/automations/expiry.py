"""Points expiry: the expiry itself, and a reminder ``remind_days`` before (default 30).

Both are transactional (they concern points the member owns), so the contact policy does not
apply: a member who used ``/stop`` is still told their points are about to expire. The quiet
hours do: a reminder caught up at night waits for the morning
(:func:`jobs.automations.common.notice_time`).

- Expiry: every member holding a lot older than the expiry period gets
  :func:`shop.ledger.expire_points` (first in, first out, never below zero, one entry
  per member per day).
- Reminder: members with a lot expiring on the shop day ``today + remind_days`` are told the
  amount expiring that day and the date (Buddhist Era in Thai). The outbox key
  ``autoexp:<member>:<date>`` makes it once per member per expiry date, however often the job
  runs. ``today`` is the day of the last :data:`HOUR` passed, and a run also reminds for the
  days before it that a process down at 09:00 missed (:func:`jobs.automations.common.due_days`,
  as the birthday greetings catch up): a run at 02:30 does the day before's reminders.
- Stats: the reminders of one shop month form one campaign (``automation:expiry`` + ``2026-03``)
  so ``/stats`` and ``/campaigns`` show them like any campaign. A reminder is a notice, so its
  hold-out is 0% by default (``holdout_pct``, at most 50%): the owner may keep one to learn
  whether reminders bring people back; a held-out member is not sent the reminder. A member is
  counted once per month, on their first reminder; a second expiry date in the same month is
  still reminded (its own key) when they are a recipient, and not when they are held out.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.messages import Reply
from jobs.app import App
from jobs.automations.common import (
    audience_group,
    automation_config,
    due_days,
    enrol,
    notice_time,
    own_words,
    period_campaign,
    send_again,
    shop_day,
)
from shop.ledger import expire_points
from shop.loyalty import earned_between, load_rules, unspent_lots
from storage.repositories.audiences import AudienceRow
from storage.uow import UnitOfWork
from wording.automations import OwnWords, expiry_reminder, expiry_template

NAME: Final = "expiry"
#: the daily run's hour (shop time): the scheduler's, and the day a run before it reminds for
HOUR: Final = 9
#: the ledger's resolution: a lot expiring at ``now`` exactly expires before ``now + _TICK``
_TICK: Final = timedelta(microseconds=1)


def _again(points: int, day: date, words: OwnWords, name: str | None, locale: str) -> Reply:
    """A further reminder in one month (:func:`send_again` gives the member's language)."""
    return expiry_reminder(points, day, locale, words, name)


async def _name(uow: UnitOfWork, member_id: int) -> str | None:
    member = await uow.members.get(member_id)
    return member.name if member is not None else None


def reminder_key(member_id: int, day: date) -> str:
    """The reminder's outbox key: once per member per expiry date."""
    return f"autoexp:{member_id}:{day.isoformat()}"


async def run_expiry(app: App) -> dict[str, int]:
    """Expire what is due and queue today's reminders; one transaction, idempotent per day."""
    now, tz = app.clock.now(), app.settings.tz
    expired = members_expired = 0
    reminders: Counter[str] = Counter()
    async with app.uow() as uow:
        config = await automation_config(uow, NAME)
        rules = await load_rules(uow)
        # the credits whose lots have expired (at ``now`` or before) were earned before this
        _, earned_before = earned_between(now, now + _TICK, rules.expiry_months, tz)
        for member_id in await uow.audiences.points_holders(None, earned_before):
            points = await expire_points(uow, member_id=member_id, now=now, rules=rules, tz=tz)
            if points:
                expired += points
                members_expired += 1
        if config["enabled"]:
            words: OwnWords | None = None
            for day in due_days(now, tz, HOUR):
                target = day + timedelta(days=int(config["remind_days"]))
                due = await _due(uow, target, tz, rules.expiry_months)
                if not due:
                    continue
                shop = app.settings.shop_name
                words = words or await own_words(uow, config, shop=shop, now=now, tz=tz)
                holdout = int(config["holdout_pct"])
                reminders += await _remind(uow, due, target, now, tz, holdout, words)
        await uow.commit()
    return {
        "expired_points": expired,
        "expired_members": members_expired,
        "reminded": reminders["recipients"],
        "reminder_holdout": reminders["holdout"],
    }


async def _due(uow: UnitOfWork, target: date, tz: ZoneInfo, expiry_months: int) -> dict[int, int]:
    """Member id → points expiring on shop day ``target`` (members with some)."""
    start = datetime.combine(target, time(), tzinfo=tz)
    end = start + timedelta(days=1)
    # the credits whose lots expire on the target day, found on the shop's calendar (a short
    # month clamps the day)
    holders = await uow.audiences.points_holders(*earned_between(start, end, expiry_months, tz))
    due: dict[int, int] = {}
    for member_id in holders:
        lots = unspent_lots(await uow.points.entries(member_id), expiry_months, tz)
        points = sum(lot.remaining for lot in lots if start <= lot.expires_at < end)
        if points > 0:
            due[member_id] = points
    return due


async def _remind(
    uow: UnitOfWork,
    due: dict[int, int],
    target: date,
    now: datetime,
    tz: ZoneInfo,
    holdout: int,
    words: OwnWords,
) -> Counter[str]:
    """Enrol the members due a reminder in this month's campaign (transactional: no consent
    needed, /stop does not apply); members already in it get this date's reminder as a
    recipient, nothing as hold-out."""
    today = shop_day(now, tz)
    campaign = await period_campaign(
        uow,
        NAME,
        f"{today.year}-{today.month:02d}",
        now,
        message=expiry_template(words.text("th")),
        holdout_pct=holdout,
    )

    def render(row: AudienceRow, locale: str) -> Reply:
        return expiry_reminder(due[row.member_id], target, locale, words, row.name)

    counts: Counter[str] = Counter()
    fresh: list[int] = []
    held = await notice_time(uow, now, tz)
    for member_id in due:
        group = await audience_group(uow, campaign, member_id)
        if group is None:
            fresh.append(member_id)
        elif group == "holdout":
            counts["holdout"] += 1
        elif await send_again(
            uow,
            member_id,
            reminder_key(member_id, target),
            partial(_again, due[member_id], target, words, await _name(uow, member_id)),
            now,
            not_before=held,
        ):
            counts["recipients"] += 1
    if fresh:
        counts += await enrol(
            uow,
            campaign,
            uow.audiences.members(fresh),
            now=now,
            tz=tz,
            promotional=False,
            render=render,
            key_of=lambda member_id: reminder_key(member_id, target),
            not_before=held,
        )
    return counts
