"""An automation's run for a period: one ``Campaign`` row, its audience rows and outbox rows.

An automation is a campaign that starts itself. Each automation has one ``Campaign`` per period
(``kind="automation:<name>"``, ``period_key`` such as ``2026-03``), created insert-once on the
unique (kind, period_key) index, so two processes or a restart find the same row. Members are
added to it day by day through the campaigns' enrolment (:func:`shop.campaigns.enrol.enrol`,
insert-once): a member already in the snapshot is never added again, and recipients get an
outbox row keyed ``cmp:<campaign>:<member>`` (notices keep their own keys, see
:func:`enrol_members`). So ``/stats`` and ``/campaigns`` report automations exactly like
campaigns, hold-out and uplift included.

Hold-out: promotions (birthday, win-back) hold out 10% by default. Notices (expiry reminder,
tier-downgrade notice, feedback request) hold out 0% by default — the owner may set a share (at
most 50%, like the others) to learn whether the notice brings people back; a held-out member is
simply not sent the notice, and ``/stats`` says plainly when no hold-out was kept. The share is
fixed on the period's campaign when it is created: a change applies from the next period.

Settings live in the ``automations`` shop setting, one JSON object per automation::

    {"birthday": {"enabled": true, "days_before": 0, "hour": 10, "holdout_pct": 10},
     "expiry": {"enabled": true, "remind_days": 30, "holdout_pct": 0}, ...}

(the feedback request keeps its settings in its own ``feedback`` setting).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from shop.campaigns.enrol import Enrolment, KeyOf, MessageOf, Payload, enrol, read_audience
from shop.campaigns.launch import segment_env
from shop.campaigns.offers import Offer
from shop.contact_policy import load_policy
from shop.notices import queue_member_notice
from storage.models import Campaign
from storage.repositories.audiences import MemberQuery
from storage.uow import UnitOfWork

SETTINGS_KEY: Final = "automations"
KIND_PREFIX: Final = "automation:"
DEFAULT_HOLDOUT: Final = 10
#: notices are sent to everyone unless the owner asks for a hold-out
NOTICE_HOLDOUT: Final = 0
MAX_HOLDOUT: Final = 50
#: every automation and its defaults; the owner's stored values override them one by one
#: the message an automation sends unless the owner wrote their own, per language ("" is the
#: built-in wording); the owner's text uses the campaigns' placeholders
NO_TEXT: Final[Mapping[str, str]] = {"text_th": "", "text_en": ""}
#: the gifts the promotions give unless the owner chose others (kinds as the campaigns' offers)
BIRTHDAY_GIFT: Final = ("percent", "20")
WINBACK_GIFT: Final = ("percent", "15")
DEFAULT_GIFTS: Final[Mapping[str, Mapping[str, str]]] = {
    "birthday": {"kind": "percent", "value": "20"},
    "winback": {"kind": "percent", "value": "15"},
}
DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "birthday": {
        "enabled": True,
        "days_before": 0,
        "hour": 10,
        "holdout_pct": DEFAULT_HOLDOUT,
        **NO_TEXT,
        "gift": DEFAULT_GIFTS["birthday"],
    },
    "winback": {
        "enabled": True,
        "lapsed_days": 60,
        "cooldown_days": 90,
        "max_tries": 2,
        "holdout_pct": DEFAULT_HOLDOUT,
        **NO_TEXT,
        "gift": DEFAULT_GIFTS["winback"],
    },
    "expiry": {"enabled": True, "remind_days": 30, "holdout_pct": NOTICE_HOLDOUT, **NO_TEXT},
    "tiers": {"enabled": True, "review_day": 1, "holdout_pct": NOTICE_HOLDOUT},
}


def kind_of(name: str) -> str:
    """The campaign kind of automation ``name``."""
    return f"{KIND_PREFIX}{name}"


async def automation_config(uow: UnitOfWork, name: str) -> dict[str, Any]:
    """The settings of automation ``name``: its defaults with the owner's values over them."""
    stored = await uow.settings.get(SETTINGS_KEY) or {}
    mine = stored.get(name)
    merged = dict(DEFAULTS[name])
    if isinstance(mine, Mapping):
        merged.update({k: v for k, v in mine.items() if k in merged})
    return merged


def own_text(config: Mapping[str, Any], locale: str) -> str:
    """The owner's message of an automation (its :func:`automation_config`) in ``locale``; ""
    when they kept the built-in wording."""
    return str(config.get("text_th" if locale == "th" else "text_en") or "")


def gift_of(config: Mapping[str, Any], name: str) -> tuple[str, str]:
    """(kind, value) of the gift automation ``name`` gives (its :func:`automation_config`)."""
    gift = config.get("gift")
    default = DEFAULT_GIFTS[name]
    if not isinstance(gift, Mapping) or not gift.get("kind") or not gift.get("value"):
        gift = default
    return str(gift["kind"]), str(gift["value"])


def shop_day(now: datetime, tz: ZoneInfo) -> date:
    """The shop's calendar day at ``now``: birthdays and expiry dates are shop days, not UTC's."""
    return now.astimezone(tz).date()


def greeting_month(birthday: date, today: date) -> date:
    """The day whose month a birthday greeting sent ``today`` belongs to (its campaign and the
    month its coupon is valid for): the birthday's, unless that month has already ended — a
    late greeting caught up after a month end — and then ``today``'s, so that the coupon is
    usable for a whole month from the greeting, not already expired."""
    return today if (birthday.year, birthday.month) < (today.year, today.month) else birthday


def birthday_offer(
    day: date, gift: tuple[str, str] = BIRTHDAY_GIFT, titles: tuple[str, str] = ("", "")
) -> Offer:
    """The birthday coupon of ``day``'s month, valid for that whole month: the owner's gift
    ``(kind, value)`` (20% off unless changed in /settings); ``titles`` (Thai, English) are the
    caller's words, or empty for a title made from the gift's kind."""
    last = calendar.monthrange(day.year, day.month)[1]
    return Offer(
        kind=gift[0],
        value=gift[1],
        title_th=titles[0],
        title_en=titles[1],
        valid_from=day.replace(day=1),
        valid_until=day.replace(day=last),
        cost=Decimal(0),
    )


def winback_offer(
    day: date, gift: tuple[str, str] = WINBACK_GIFT, titles: tuple[str, str] = ("", "")
) -> Offer:
    """The win-back offer enrolled on ``day``: valid until the end of the following month; the
    owner's gift ``(kind, value)`` (15% off unless changed in /settings); ``titles`` as for
    :func:`birthday_offer`."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return Offer(
        kind=gift[0],
        value=gift[1],
        title_th=titles[0],
        title_en=titles[1],
        valid_until=date(year, month, calendar.monthrange(year, month)[1]),
        cost=Decimal(0),
    )


async def period_campaign(
    uow: UnitOfWork,
    name: str,
    period_key: str,
    now: datetime,
    *,
    message: str,
    holdout_pct: int,
    offer: dict[str, Any] | None = None,
    button_label: str | None = None,
) -> Campaign:
    """The automation's campaign for ``period_key``, created once (race-free) and ``sending``
    from the start: the tracking module honours claims of ``sending``/``sent`` campaigns.
    ``message`` is the template shown in ``/campaigns``; the hold-out is capped at 50%."""
    kind = kind_of(name)
    return await uow.campaigns.open_period(
        {
            "name": f"{name} {period_key}",
            "kind": kind,
            "period_key": period_key,
            "segment_name": kind,
            "rule": "",
            "message": message,
            "button_label": button_label,
            "offer": offer,
            "holdout_pct": max(0, min(int(holdout_pct), MAX_HOLDOUT)),
            "attribution_days": 7,
            "status": "sending",
            "started_at": now,
            "created_by": "system",
            "created_at": now,
        }
    )


async def enrol_members(
    uow: UnitOfWork,
    campaign: Campaign,
    members: MemberQuery,
    *,
    now: datetime,
    tz: ZoneInfo,
    promotional: bool,
    message: MessageOf,
    key_of: KeyOf | None = None,
    not_before: datetime | None = None,
    spend_since: datetime | None = None,
) -> Enrolment:
    """Add the members of ``members`` who are not yet in the campaign's audience: hold-out by
    hash, exclusions by the contact policy (only ``unreachable`` for transactional
    automations), an outbox row for each recipient.

    ``key_of`` gives a recipient's outbox key; notices pass their own (``autoexp:<member>:<date>``,
    ``feedback:<sale>``...) so that their once-per-date / once-per-sale guarantee holds whatever
    the campaign, and the audience row points at it for the delivery counts. ``not_before``
    holds the messages back (quiet hours). ``spend_since`` fills each row's spend (for a
    message that shows the member's tier).
    """
    env = await segment_env(uow, now, tz)
    policy = await load_policy(uow.settings)
    fresh = uow.audiences.not_in_campaign(members, campaign.id)
    audience = await read_audience(
        uow, env, fresh, policy, promotional=promotional, spend_since=spend_since
    )
    return await enrol(
        uow,
        campaign,
        audience,
        message=message,
        now=now,
        key_of=key_of,
        promotional=promotional,
        not_before=not_before,
        once=True,
    )


async def audience_group(uow: UnitOfWork, campaign: Campaign, member_id: int) -> str | None:
    """``recipient`` / ``holdout`` for a member already in the campaign's audience, else None.

    A notice can be due twice in one period (two expiry dates, two sales): the member is
    counted once, on their first notice; a later one follows the side they were drawn on."""
    return await uow.campaigns.group_of(campaign.id, member_id)


async def send_again(
    uow: UnitOfWork,
    member_id: int,
    key: str,
    message: Callable[[str], Payload],
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> bool:
    """A further notice (own ``key``, insert-once; ``message(locale)``) to a member already
    counted in this period's campaign as a recipient; False when they cannot be reached or the
    key was queued before."""
    member = await uow.members.get(member_id)
    if member is None or member.erased_at is not None:
        return False
    payload = message(member.locale or "th")
    queued = await queue_member_notice(uow, member_id, payload, key, now, not_before=not_before)
    return queued is True
