"""The automations' side of the jobs: the shop's automation rules (:mod:`shop.automations`)
called with chat replies worded by the job (a ``Reply`` per member and language, turned into
outbox payloads here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import LOCALES
from shop import automations
from shop.automations import (
    DEFAULTS,
    KIND_PREFIX,
    MAX_HOLDOUT,
    NOTICE_HOLDOUT,
    SETTINGS_KEY,
    audience_group,
    automation_config,
    gift_of,
    kind_of,
    own_text,
    period_campaign,
    shop_day,
)
from shop.campaigns.enrol import KeyOf
from shop.contact_policy import load_policy, next_send_time
from shop.loyalty import add_months, load_rules
from shop.profile import shop_names
from storage.models import Campaign
from storage.repositories.audiences import AudienceRow, MemberQuery
from storage.uow import UnitOfWork
from wording.automations import OwnWords

__all__ = [
    "CATCH_UP_DAYS",
    "DEFAULTS",
    "KIND_PREFIX",
    "MAX_HOLDOUT",
    "NOTICE_HOLDOUT",
    "SETTINGS_KEY",
    "Render",
    "audience_group",
    "automation_config",
    "due_days",
    "enrol",
    "gift_of",
    "kind_of",
    "own_words",
    "period_campaign",
    "send_again",
    "shop_day",
]

#: what one member's message says, given their audience row and language
Render = Callable[[AudienceRow, str], Reply]
#: how many days before its own a daily automation's run also covers
CATCH_UP_DAYS: Final = 3


def due_days(now: datetime, tz: ZoneInfo, hour: int) -> list[date]:
    """The shop days a run at ``now`` of a daily automation due at ``hour`` (shop time)
    covers, oldest first: the last day whose hour has come (before the hour, yesterday) and the
    :data:`CATCH_UP_DAYS` days before it, so that a process back after downtime does what the
    missed runs would have done — late, but once (each automation's keys or snapshot make a
    day's work once however often it is covered)."""
    last = shop_day(now, tz)
    if now.astimezone(tz).time() < time(hour):
        last -= timedelta(days=1)
    return [last - timedelta(days=back) for back in range(CATCH_UP_DAYS, -1, -1)]


async def notice_time(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> datetime:
    """When an automated notice queued at ``now`` goes: now, or the end of the quiet hours.
    Nobody is waiting for it (unlike a reply or a receipt), and a catch-up after downtime may
    queue it in the night: it is held until the morning like a promotion, not dropped."""
    return next_send_time(now, tz, await load_policy(uow.settings))


async def enrol(
    uow: UnitOfWork,
    campaign: Campaign,
    members: MemberQuery,
    *,
    now: datetime,
    tz: ZoneInfo,
    promotional: bool,
    render: Render,
    key_of: KeyOf | None = None,
    not_before: datetime | None = None,
    words: OwnWords | None = None,
) -> Counter[str]:
    """:func:`shop.automations.enrol_members` with ``render``'s reply in the member's language
    (Thai when unset). Returns counts: ``recipients``, ``holdout``, ``already_queued`` and one
    per exclusion reason (only those above zero). ``words``: the owner's texts ``render`` uses
    (a text showing the tier needs each member's spend)."""
    since = None
    if words is not None and words.needs_spend:
        since = add_months(now, -words.rules.tier_window_months)
    enrolment = await automations.enrol_members(
        uow,
        campaign,
        members,
        now=now,
        tz=tz,
        promotional=promotional,
        message=lambda row: replies_to_payload([render(row, row.locale or "th")]),
        key_of=key_of,
        not_before=not_before,
        spend_since=since,
    )
    return enrolment.counts()


async def own_words(
    uow: UnitOfWork, config: Mapping[str, Any], *, shop: str, now: datetime, tz: ZoneInfo
) -> OwnWords:
    """The owner's texts of an automation (its ``automation_config``) in every language, with
    what their placeholders are filled from (``shop``: the name until the owner gives one)."""
    texts = {locale: own_text(config, locale) for locale in LOCALES}
    return OwnWords(texts, await load_rules(uow), await shop_names(uow, shop), now, tz)


async def send_again(
    uow: UnitOfWork,
    member_id: int,
    key: str,
    make: Callable[[str], Reply],
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> bool:
    """:func:`shop.automations.send_again` with ``make``'s reply in the member's language."""
    return await automations.send_again(
        uow,
        member_id,
        key,
        lambda locale: replies_to_payload([make(locale)]),
        now,
        not_before=not_before,
    )
