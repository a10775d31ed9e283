"""Tier review: keep ``Member.tier`` in step with the rolling spend; downgrade with notice.

Decisions:

- The tier is computed from the non-voided spend of the last ``tier_window_months`` (the
  loyalty rules). Upgrades are applied whenever the review runs, silently: the sale path
  already tells a member at the counter that they moved up.
- Downgrades happen only at the review, from ``review_day`` (default 1) of each month, at most
  once per member per month (a member whose ``tier_since`` is already in this period is left
  alone), with a notice: "you are now Silver; spend X by DATE to get Gold back" where DATE is
  the day before the next review. X is what the member must add to the spend that will
  still be in the window at the next review (to the end of its day): sales that leave the
  window before then are not counted, so spending exactly X by DATE brings the tier back at
  the next review at the latest. No extra grace period: the rolling 12-month window already
  is one (a member falls only after a whole year of spending below the line), and the notice
  gives a month to climb back before the next review.
- A member reviewed for the first time (``tier`` NULL) gets their tier without a notice.
- The notice is a transactional outbox row keyed ``tier:<member>:<YYYY-MM>`` (once a month):
  no consent needed, ``/stop`` does not apply; the quiet hours do (a review caught up at night
  is told in the morning: :func:`jobs.automations.common.notice_time`).
- Stats: the notices of one review form one campaign (``automation:tiers`` + ``2026-03``), so
  ``/stats`` and ``/campaigns`` show them like any campaign. A notice's hold-out is 0% by default
  (``holdout_pct``, at most 50%); a held-out member is downgraded all the same but not told.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.messages import Reply
from jobs.app import App
from jobs.automations.common import (
    automation_config,
    enrol,
    notice_time,
    period_campaign,
    shop_day,
)
from shop.loyalty import LoyaltyRules, Tier, add_months, load_rules
from storage.repositories.audiences import AudienceRow
from storage.uow import UnitOfWork
from wording.automations import tier_down_notice, tier_down_template

NAME: Final = "tiers"


def _rank(rules: LoyaltyRules, name: str | None) -> int:
    names = [tier.name for tier in rules.tiers]
    return names.index(name) if name in names else -1


def _next_review(today: date, review_day: int) -> date:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, review_day)


async def run_tier_review(app: App) -> dict[str, int]:
    """Review every member's tier (see the module's rules); one transaction, idempotent."""
    now, tz = app.clock.now(), app.settings.tz
    today = shop_day(now, tz)
    counts = {"upgraded": 0, "downgraded": 0, "first": 0}
    notices: dict[int, tuple[Tier, Tier, Decimal]] = {}
    async with app.uow() as uow:
        config = await automation_config(uow, NAME)
        review_day = max(1, min(int(config["review_day"]), 28))
        if not config["enabled"] or today.day < review_day:
            return counts
        period_start = datetime.combine(today.replace(day=review_day), time(), tzinfo=tz)
        rules = await load_rules(uow)
        for row in await uow.audiences.spends(add_months(now, -rules.tier_window_months)):
            tier, _ = rules.tier_for(row.spend)
            held, new = _rank(rules, row.tier), _rank(rules, tier.name)
            if held == new:
                continue
            member = await uow.members.get(row.id)
            assert member is not None
            if row.tier is None or held < 0:
                counts["first"] += 1
            elif new > held:
                counts["upgraded"] += 1
            elif member.tier_since is not None and member.tier_since >= period_start:
                continue  # already moved down in this period
            else:
                counts["downgraded"] += 1
                notices[member.id] = (tier, rules.tiers[held], row.spend)
            member.tier, member.tier_since = tier.name, now
        if notices:
            next_review = _next_review(today, review_day)
            by = next_review - timedelta(days=1)
            await _still_to_spend(uow, notices, next_review, tz, rules)
            sent = await _notify_down(uow, notices, by, today, now, tz, int(config["holdout_pct"]))
            counts["notified"], counts["holdout"] = sent["recipients"], sent["holdout"]
        await uow.commit()
    return counts


async def _still_to_spend(
    uow: UnitOfWork,
    notices: dict[int, tuple[Tier, Tier, Decimal]],
    next_review: date,
    tz: ZoneInfo,
    rules: LoyaltyRules,
) -> None:
    """Turn each notice's spend into the amount still to spend to get the lost tier back: its
    threshold less the spend that is still in the window at the end of the next review's day
    (a review that day, however late it runs, counts at least those sales)."""
    end = datetime.combine(next_review + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    since = add_months(end, -rules.tier_window_months)
    for member_id, (tier, previous, _) in notices.items():
        kept = await uow.members.spend_since(member_id, since)
        notices[member_id] = (tier, previous, previous.min_spend - kept)


async def _notify_down(
    uow: UnitOfWork,
    notices: dict[int, tuple[Tier, Tier, Decimal]],
    by: date,
    today: date,
    now: datetime,
    tz: ZoneInfo,
    holdout: int,
) -> Counter[str]:
    """Enrol the downgraded members in this review's campaign: the notice to recipients."""
    campaign = await period_campaign(
        uow,
        NAME,
        f"{today.year}-{today.month:02d}",
        now,
        message=tier_down_template(),
        holdout_pct=holdout,
    )

    def render(row: AudienceRow, locale: str) -> Reply:
        tier, previous, amount = notices[row.member_id]
        return tier_down_notice(tier, previous, amount, by, locale)

    return await enrol(
        uow,
        campaign,
        uow.audiences.members(list(notices)),
        now=now,
        tz=tz,
        promotional=False,
        render=render,
        key_of=lambda member_id: f"tier:{member_id}:{by:%Y-%m}",
        not_before=await notice_time(uow, now, tz),
    )
