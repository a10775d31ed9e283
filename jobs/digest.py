"""The daily digest: yesterday (shop time) in one message to every owner and manager.

Setting ``digest``: ``{"enabled": true, "hour": 8, "managers": true}`` (default 08:00 shop
time). The job ticks hourly and does nothing before the hour; at or after it, it queues one
message per recipient with the key ``digest:<yesterday>:<staff id>``
(:func:`bot.core.keys.digest_key`), so each is sent once per day however often the job runs,
and removing the person withdraws it.

Who gets what:

- owners, and managers without a branch (they work everywhere): the whole-shop digest;
- managers of a branch: that branch's digest — its sales, the new members whose home branch it
  is, the coupons redeemed at it and the feedback about visits to it, nothing of other
  branches (no shop-wide campaign lines or LINE quota either);
- ``"managers": false`` switches the managers' digests off (owners still get theirs).

The numbers are in :mod:`jobs.digest_numbers`; the LINE quota left comes from
``app.bus.quota_reader`` (unknown without LINE).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any, Final

from bot.core.keys import digest_key
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_baht, format_date, t
from jobs.app import App
from jobs.digest_numbers import CampaignLine, Digest, digest_numbers
from jobs.staff_notices import staff_readers
from storage.uow import UnitOfWork
from wording.campaigns import campaign_title

log = logging.getLogger(__name__)

SETTINGS_KEY: Final = "digest"
DEFAULT_HOUR: Final = 8
#: ``None`` is the whole shop
Scope = int | None

__all__ = ["CampaignLine", "Digest", "digest_numbers", "render", "run_digest"]


def render(digest: Digest, locale: str) -> str:
    day = format_date(digest.day, locale)
    if digest.branch is None:
        lines = [t(locale, "digest.title", day=day)]
    else:
        branch = digest.branch[0] if locale == "th" else digest.branch[1]
        lines = [t(locale, "digest.title_branch", branch=branch, day=day)]
    lines.append(
        t(locale, "digest.sales", n=digest.sales, total=format_baht(digest.revenue, locale))
    )
    if digest.branch is None:
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
        average = f"{digest.rating:.1f}"
        lines.append(
            t(locale, "digest.feedback", n=digest.feedback, average=average, low=digest.low_ratings)
        )
    for line in digest.campaigns:
        lines.append(
            t(
                locale,
                "digest.campaign",
                name=campaign_title(locale, line.name, line.kind),
                sent=line.sent,
                redeemed=line.redeemed,
                revenue=format_baht(line.revenue, locale),
            )
        )
    if digest.branch is None:
        lines.append(_quota_line(digest.quota_left, locale))
    return "\n".join(lines)


def _quota_line(quota: int | None, locale: str) -> str:
    if quota is None:
        return t(locale, "digest.quota_unknown")
    if quota < 0:
        return t(locale, "digest.quota_unlimited")
    return t(locale, "digest.quota", n=quota)


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


async def _scopes(uow: UnitOfWork, managers: bool) -> dict[int, Scope]:
    """Staff id → the branch their digest covers (None: the whole shop), for every active
    owner and, unless switched off, manager."""
    roles = {"owner", "manager"} if managers else {"owner"}
    return {
        person.id: (person.branch_id if person.role == "manager" else None)
        for person in await uow.staff.active()
        if person.role in roles
    }


async def run_digest(app: App) -> dict[str, int]:
    """Queue yesterday's digest to every owner and manager once the digest hour has come
    (see module doc); one transaction."""
    now = app.clock.now()
    tz = app.settings.tz
    local = now.astimezone(tz)
    async with app.uow() as uow:
        setting: dict[str, Any] = await uow.settings.get(SETTINGS_KEY) or {}
    if not setting.get("enabled", True) or local.hour < int(setting.get("hour", DEFAULT_HOUR)):
        return {"queued": 0}
    day = local.date() - timedelta(days=1)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(local.date(), time(0), tz)
    quota = await quota_left(app)
    queued = 0
    async with app.uow() as uow:
        scopes = await _scopes(uow, bool(setting.get("managers", True)))
        digests: dict[Scope, Digest] = {}
        for person, locale in await staff_readers(uow, {"owner", "manager"}, app.settings.locale):
            if person.staff_id not in scopes:
                continue
            scope = scopes[person.staff_id]
            if scope not in digests:  # each digest is counted once, however many read it
                digests[scope] = await digest_numbers(uow, day, start, end, scope)
                digests[scope].quota_left = quota
            payload = replies_to_payload([Reply(text=render(digests[scope], locale))])
            key = digest_key(day, person.staff_id)
            if await uow.outbox.enqueue(key, person.channel, person.user_id, payload, now):
                queued += 1
        await uow.commit()
    if queued and app.bus.on_commit is not None:
        app.bus.on_commit()
    return {"queued": queued}
