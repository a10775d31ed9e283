"""A coupon as the member keeps it (title, code, last day, branches, QR) and when it is good.

The member's coupon list, a claimed promotion and a cashier's "not now" all show these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.core.messages import Attachment, Reply
from bot.i18n import format_date, t
from shop.coupons import coupon_qr_png, coupon_title, display_code, last_valid_day
from storage.models import Coupon
from storage.uow import UnitOfWork


async def branch_names(uow: UnitOfWork, codes: Sequence[str], locale: str) -> str:
    """The names of the branches a coupon is good at ("all branches" when unrestricted)."""
    if not codes:
        return t(locale, "coupons.all_branches")
    names = []
    for code in codes:
        branch = await uow.branches.by_code(code)
        if branch is not None:
            names.append(branch.name_th if locale == "th" else branch.name_en)
    return ", ".join(names) or t(locale, "coupons.all_branches")


async def coupon_reply(uow: UnitOfWork, coupon: Coupon, locale: str, tz: ZoneInfo) -> Reply:
    """The coupon as the member keeps it: title, code, last valid day, branches and a QR."""
    text = t(
        locale,
        "coupons.issued",
        title=coupon_title(coupon, locale),
        code=display_code(coupon.code),
        date=format_date(last_valid_day(coupon, tz), locale),
        branches=await branch_names(uow, coupon.branch_codes, locale),
    )
    # the QR's link (LINE) lives as long as the coupon and dies when it is used
    png = Attachment(
        f"coupon-{coupon.code}.png",
        coupon_qr_png(coupon.code),
        "image/png",
        valid_until=coupon.expires_at,
        coupon_id=coupon.id,
    )
    return Reply(text=text, attachment=png)


def unusable_coupon_reply(coupon: Coupon, locale: str, tz: ZoneInfo, now: datetime) -> Reply | None:
    """What an old button (/coupons, a promotion) says of a coupon that can no longer be used:
    used (when), expired (its last day) or void; None while it is usable. No QR: the cashier
    would refuse it."""
    if coupon.status == "issued" and coupon.expires_at > now:
        return None
    title = coupon_title(coupon, locale)
    if coupon.status == "redeemed" and coupon.redeemed_at is not None:
        used = format_date(coupon.redeemed_at.astimezone(tz).date(), locale)
        return Reply(text=t(locale, "coupons.was_used", title=title, date=used))
    if coupon.status == "void":
        return Reply(text=t(locale, "coupons.no_longer_valid", title=title))
    day = format_date(last_valid_day(coupon, tz), locale)
    return Reply(text=t(locale, "coupons.has_expired", title=title, date=day))


def describe_conditions(conditions: dict[str, Any] | None, locale: str) -> str:
    """ "Mon–Fri 14:00–16:00" / "จ.–ศ. 14:00–16:00" (plus "from 2 Mar 2026"); "any time"."""
    if not conditions:
        return t(locale, "tracking.any_time")
    parts = []
    weekdays = sorted({int(day) for day in conditions.get("weekdays") or ()})
    if weekdays:
        parts.append(_weekday_ranges(weekdays, locale))
    hours = conditions.get("hours")
    if hours:
        parts.append(f"{int(hours[0]):02d}:00–{int(hours[1]):02d}:00")
    first = conditions.get("from")
    if first:
        day = format_date(date.fromisoformat(str(first)), locale)
        parts.append(t(locale, "tracking.from_day", date=day))
    return " ".join(parts) or t(locale, "tracking.any_time")


def _weekday_ranges(days: list[int], locale: str) -> str:
    """Runs of consecutive days joined with a dash: [0,1,2,3,4] → "Mon–Fri", [5,6] → "Sat–Sun"."""
    names = get_day_names("abbreviated", locale=locale)
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    texts = [
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}" for run in runs
    ]
    return ", ".join(texts)
