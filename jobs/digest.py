"""The daily owner digest: yesterday (shop time) in one message to every owner.

Setting ``digest``: ``{"enabled": true, "hour": 8}`` (default 08:00 shop time). The job ticks
hourly and does nothing before the hour; at or after it, it queues one message per owner with
the key ``digest:<yesterday>:<staff id>``, so it is sent once per day however often it runs.
Managers are not sent the digest (they have ``/report``).

Numbers (yesterday = the shop's previous calendar day): sales recorded (non-voided: count,
total, by branch), new members (joined, not erased), coupons redeemed, feedback answered
(count, mean stars, ratings ≤ 2), campaigns and automations active yesterday (sent, redeemed,
revenue from ``/stats``), and LINE's quota left (``app.bus.quota_reader``; unknown without LINE).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import BigInteger, func, or_, select
from sqlalchemy.sql.expression import type_coerce

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_baht, format_date, supported_locale, t
from handlers.campaigns.stats import compute_stats
from storage.models import Branch, Campaign, Coupon, Member, Sale
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SETTINGS_KEY: Final = "digest"
DEFAULT_HOUR: Final = 8


@dataclass(frozen=True, slots=True)
class CampaignLine:
    name: str
    sent: int
    redeemed: int
    revenue: Decimal


@dataclass
class Digest:
    day: date
    sales: int = 0
    revenue: Decimal = Decimal("0.00")
    #: (branch name th, branch name en, sales, revenue), biggest revenue first
    by_branch: list[tuple[str, str, int, Decimal]] = field(default_factory=list)
    new_members: int = 0
    redemptions: int = 0
    feedback: int = 0
    rating: float | None = None
    low_ratings: int = 0
    campaigns: list[CampaignLine] = field(default_factory=list)
    #: LINE messages left this month; None when unknown (no LINE), -1 when unlimited
    quota_left: int | None = None


def _baht(satang: Any) -> Decimal:
    return (Decimal(int(satang or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


async def digest_numbers(uow: UnitOfWork, day: date, start: datetime, end: datetime) -> Digest:
    """Everything the digest says about [start, end) (one shop day), each an SQL aggregate."""
    s = uow.session
    digest = Digest(day)
    satang = type_coerce(Sale.amount, BigInteger)
    window = (Sale.occurred_at >= start, Sale.occurred_at < end, Sale.voided_at.is_(None))
    count, total = (
        await s.execute(select(func.count(Sale.id), func.sum(satang)).where(*window))
    ).one()
    digest.sales, digest.revenue = int(count), _baht(total)
    rows = await s.execute(
        select(Branch.name_th, Branch.name_en, func.count(Sale.id), func.sum(satang))
        .join(Branch, Branch.id == Sale.branch_id)
        .where(*window)
        .group_by(Branch.id, Branch.name_th, Branch.name_en)
        .order_by(func.sum(satang).desc(), Branch.id)
    )
    digest.by_branch = [(th, en, int(n), _baht(v)) for th, en, n, v in rows]
    digest.new_members = int(
        (
            await s.execute(
                select(func.count(Member.id)).where(
                    Member.joined_at >= start, Member.joined_at < end, Member.erased_at.is_(None)
                )
            )
        ).scalar_one()
    )
    digest.redemptions = int(
        (
            await s.execute(
                select(func.count(Coupon.id)).where(
                    Coupon.redeemed_at >= start, Coupon.redeemed_at < end
                )
            )
        ).scalar_one()
    )
    ratings = await uow.feedback.by_branch(start, end)
    digest.feedback = sum(r.answers for r in ratings)
    digest.low_ratings = sum(r.low for r in ratings)
    if digest.feedback:
        digest.rating = sum(r.average * r.answers for r in ratings) / digest.feedback
    active = await s.execute(
        select(Campaign.id, Campaign.name)
        .where(
            Campaign.started_at.is_not(None),
            Campaign.started_at < end,
            or_(Campaign.finished_at.is_(None), Campaign.finished_at >= start),
            Campaign.status != "cancelled",
        )
        .order_by(Campaign.id)
    )
    for campaign_id, name in active.all():
        stats = await compute_stats(uow, campaign_id, end)
        digest.campaigns.append(
            CampaignLine(
                name, stats.recipients.sent, stats.recipients.redeemed, stats.recipients.revenue
            )
        )
    return digest


def render(digest: Digest, locale: str) -> str:
    lines = [
        t(locale, "digest.title", day=format_date(digest.day, locale)),
        t(locale, "digest.sales", n=digest.sales, total=format_baht(digest.revenue, locale)),
    ]
    for th, en, n, revenue in digest.by_branch:
        branch = th if locale == "th" else en
        lines.append(
            t(locale, "digest.branch", branch=branch, n=n, total=format_baht(revenue, locale))
        )
    lines.append(t(locale, "digest.members", n=digest.new_members))
    lines.append(t(locale, "digest.redemptions", n=digest.redemptions))
    if digest.rating is None:
        lines.append(t(locale, "digest.no_feedback"))
    else:
        lines.append(
            t(
                locale,
                "digest.feedback",
                n=digest.feedback,
                average=f"{digest.rating:.1f}",
                low=digest.low_ratings,
            )
        )
    for line in digest.campaigns:
        lines.append(
            t(
                locale,
                "digest.campaign",
                name=line.name,
                sent=line.sent,
                redeemed=line.redeemed,
                revenue=format_baht(line.revenue, locale),
            )
        )
    if digest.quota_left is None:
        lines.append(t(locale, "digest.quota_unknown"))
    elif digest.quota_left < 0:
        lines.append(t(locale, "digest.quota_unlimited"))
    else:
        lines.append(t(locale, "digest.quota", n=digest.quota_left))
    return "\n".join(lines)


async def quota_left(app: App) -> int | None:
    reader = app.bus.quota_reader
    if reader is None:
        return None
    try:
        limit, used = await reader()
    except Exception:  # a digest without the quota beats no digest
        log.warning("LINE quota could not be read for the digest", exc_info=True)
        return None
    return -1 if limit is None else max(limit - used, 0)


async def run_digest(app: App) -> dict[str, int]:
    """Queue yesterday's digest to every owner once the digest hour has come (see module doc)."""
    now = app.clock.now()
    tz = app.settings.tz
    local = now.astimezone(tz)
    async with app.uow() as uow:
        setting = await uow.settings.get(SETTINGS_KEY) or {}
    if not setting.get("enabled", True) or local.hour < int(setting.get("hour", DEFAULT_HOUR)):
        return {"queued": 0}
    day = local.date() - timedelta(days=1)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(local.date(), time(0), tz)
    quota = await quota_left(app)
    queued = 0
    async with app.uow() as uow:
        digest = await digest_numbers(uow, day, start, end)
        digest.quota_left = quota
        for owner in await uow.outbox.staff_recipients({"owner"}, None):
            if not owner.reachable:
                continue
            locale = (
                owner.member_locale or supported_locale(owner.language_code) or app.settings.locale
            )
            payload = replies_to_payload([Reply(text=render(digest, locale))])
            key = f"digest:{day.isoformat()}:{owner.staff_id}"
            if await uow.outbox.enqueue(key, owner.channel, owner.user_id, payload, now):
                queued += 1
        await uow.commit()
    if queued and app.bus.on_commit is not None:
        app.bus.on_commit()
    return {"queued": queued}
