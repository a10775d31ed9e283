"""An automation's run for a period: one ``Campaign`` row, its audience rows and outbox rows.

An automation is a campaign that starts itself. Each automation has one ``Campaign`` per period
(``kind="automation:<name>"``, ``period_key`` such as ``2026-03``), created insert-once on the
unique (kind, period_key) index, so two processes or a restart find the same row. Members are
added to it day by day: a member already in the snapshot is never added again (the audience
query leaves them out, and the insert is ``ON CONFLICT DO NOTHING`` on its primary key), and
recipients get an outbox row keyed ``cmp:<campaign>:<member>`` (insert-once too; notices keep
their own keys, see ``enrol``). So ``/stats`` and ``/campaigns`` report automations exactly like
campaigns, hold-out and uplift included.

Hold-out: promotions (birthday, win-back) hold out 10% by default. Notices (expiry reminder,
tier-downgrade notice, feedback request) hold out 0% by default — the owner may set a share (at
most 50%, like the others) to learn whether the notice brings people back; a held-out member is
simply not sent the notice, and ``/stats`` says plainly when no hold-out was kept. The share is
fixed on the period's campaign when it is created: a change applies from the next period.

Settings live in the ``automations`` shop setting, one JSON object per automation::

    {"birthday": {"enabled": true, "days_before": 0, "hour": 10, "holdout_pct": 10},
     "expiry": {"enabled": true, "remind_days": 30, "holdout_pct": 0}, ...}

(the feedback request keeps its settings in its own ``feedback`` setting, see
:mod:`jobs.feedback`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from shop.campaigns.launch import in_holdout, outbox_key, segment_env
from shop.contact_policy import eligibility, load_policy
from shop.notices import queue_member_notice
from storage.models import Campaign, CampaignMember, Member, table_of
from storage.uow import UnitOfWork
from storage.upsert import insert_once

SETTINGS_KEY: Final = "automations"
KIND_PREFIX: Final = "automation:"
DEFAULT_HOLDOUT: Final = 10
#: notices are sent to everyone unless the owner asks for a hold-out
NOTICE_HOLDOUT: Final = 0
MAX_HOLDOUT: Final = 50
#: every automation and its defaults; the owner's stored values override them one by one
DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "birthday": {"enabled": True, "days_before": 0, "hour": 10, "holdout_pct": DEFAULT_HOLDOUT},
    "winback": {
        "enabled": True,
        "lapsed_days": 60,
        "cooldown_days": 90,
        "max_tries": 2,
        "holdout_pct": DEFAULT_HOLDOUT,
    },
    "expiry": {"enabled": True, "remind_days": 30, "holdout_pct": NOTICE_HOLDOUT},
    "tiers": {"enabled": True, "review_day": 1, "holdout_pct": NOTICE_HOLDOUT},
}
#: what one member's message says, given their audience row (member_id, locale, name, ...)
Render = Callable[[Any, str], Reply]
#: the outbox key of one member's message (default ``cmp:<campaign>:<member>``)
KeyOf = Callable[[int], str]


def kind_of(name: str) -> str:
    return f"{KIND_PREFIX}{name}"


async def automation_config(uow: UnitOfWork, name: str) -> dict[str, Any]:
    """The settings of automation ``name``: its defaults with the owner's values over them."""
    stored = await uow.settings.get(SETTINGS_KEY) or {}
    mine = stored.get(name)
    merged = dict(DEFAULTS[name])
    if isinstance(mine, Mapping):
        merged.update({k: v for k, v in mine.items() if k in merged})
    return merged


def shop_day(now: datetime, tz: ZoneInfo) -> date:
    """The shop's calendar day at ``now``: birthdays and expiry dates are shop days, not UTC's."""
    return now.astimezone(tz).date()


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
    from the start: the tracking module honours claims of ``sending``/``sent`` campaigns."""
    kind = kind_of(name)
    await insert_once(
        uow.session,
        Campaign,
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
        },
        ("kind", "period_key"),
    )
    campaign = await uow.session.scalar(
        select(Campaign).where(Campaign.kind == kind, Campaign.period_key == period_key)
    )
    assert campaign is not None
    return campaign


async def enrol(
    uow: UnitOfWork,
    campaign: Campaign,
    members: Select[Any],
    *,
    now: datetime,
    tz: ZoneInfo,
    promotional: bool,
    render: Render,
    key_of: KeyOf | None = None,
    not_before: datetime | None = None,
) -> Counter[str]:
    """Add the members of ``members`` (a select of member ids) who are not yet in the
    campaign's audience: hold-out by hash, exclusions by the contact policy (only
    ``unreachable`` for transactional automations), an outbox row for each recipient.

    ``key_of`` gives a recipient's outbox key; notices pass their own (``autoexp:<member>:<date>``,
    ``feedback:<sale>``...) so that their once-per-date / once-per-sale guarantee holds whatever
    the campaign, and the audience row points at it for the delivery counts. ``not_before``
    holds the messages back (quiet hours).

    Returns counts: ``recipients``, ``holdout`` and one per exclusion reason.
    """
    env = await segment_env(uow, now, tz)
    policy = await load_policy(uow.settings)
    fresh = members.where(
        ~exists().where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.member_id == Member.id
        )
    )
    elig = eligibility(env, fresh, promotional=promotional, policy=policy).subquery("elig")
    rows = (
        await uow.session.execute(
            select(
                elig.c.member_id,
                elig.c.channel,
                elig.c.user_id,
                elig.c.excluded,
                Member.name,
                Member.locale,
                Member.points_balance,
                Member.birthday,
            )
            .join(Member, Member.id == elig.c.member_id)
            .order_by(elig.c.member_id)
        )
    ).all()
    counts: Counter[str] = Counter()
    audience: list[dict[str, Any]] = []
    for row in rows:
        holdout = in_holdout(campaign.id, row.member_id, campaign.holdout_pct)
        key: str | None = None
        if row.excluded is not None:
            counts[row.excluded] += 1
        elif holdout:
            counts["holdout"] += 1
        else:
            key = (
                outbox_key(campaign.id, row.member_id) if key_of is None else key_of(row.member_id)
            )
            reply = render(row, row.locale or "th")
            queued = await uow.outbox.enqueue(
                key,
                row.channel,
                row.user_id,
                replies_to_payload([reply]),
                now,
                member_id=row.member_id,
                promotional=promotional,
                not_before=not_before,
            )
            counts["recipients" if queued else "already_queued"] += 1
        audience.append(
            {
                "campaign_id": campaign.id,
                "member_id": row.member_id,
                "group": "holdout" if holdout else "recipient",
                "channel": row.channel,
                "excluded": row.excluded,
                "outbox_key": key,
                "enrolled_at": now,
            }
        )
    await _add_members_once(uow, audience)
    return counts


async def audience_group(uow: UnitOfWork, campaign: Campaign, member_id: int) -> str | None:
    """``recipient`` / ``holdout`` for a member already in the campaign's audience, else None.

    A notice can be due twice in one period (two expiry dates, two sales): the member is
    counted once, on their first notice; a later one follows the side they were drawn on."""
    return await uow.session.scalar(
        select(CampaignMember.group).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.member_id == member_id
        )
    )


async def _add_members_once(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Audience rows, ``ON CONFLICT DO NOTHING``: a concurrent run adding the same member
    leaves the first row in place instead of aborting the transaction."""
    if not rows:
        return
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table_of(CampaignMember)).on_conflict_do_nothing(
        index_elements=["campaign_id", "member_id"]
    )
    await uow.session.execute(statement, rows)


async def send_again(
    uow: UnitOfWork,
    member_id: int,
    key: str,
    make: Callable[[str], Reply],
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> bool:
    """A further notice (own ``key``, insert-once) to a member already counted in this period's
    campaign as a recipient; False when they cannot be reached or the key was queued before."""
    member = await uow.session.get(Member, member_id)
    if member is None or member.erased_at is not None:
        return False
    reply = make(member.locale or "th")
    queued = await queue_member_notice(uow, member_id, [reply], key, now, not_before=not_before)
    return queued is True
