"""Who may receive a promotion, and when: the contact policy in one place.

Campaigns and automations share one eligibility query (:func:`eligibility`, built by
``storage.eligibility`` from this policy's caps), so a rule such as
"fans hear from the shop at most three times a week" holds however the promotion was made.
The policy never concerns transactional messages (receipts, points notices): only outbox rows
with ``promotional = true`` are subject to it.

Quiet hours are a *deferral*, not an exclusion: the dispatcher holds a promotional row that
falls inside them until :func:`next_send_time`. Settings live in the ``contact_policy`` shop
setting::

    {"quiet_hours": ["21:00", "09:00"], "cap_days": 7,
     "caps": {"fan": 3, "regular": 2, "returning": 2, "new": 2, "lapsed": 1,
              "deal_seeker": 1, "other": 1}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from storage.eligibility import (
    COUNTED_STATUSES,
    EXCLUSION_REASONS,
    FREQUENCY_CAP,
    NO_CONSENT,
    STOPPED,
    UNREACHABLE,
    EligibilityQuery,
    LifecycleColumn,
    MemberIds,
    eligibility_query,
)
from storage.segments import SegmentEnv

__all__ = [
    "COUNTED_STATUSES",
    "EXCLUSION_REASONS",
    "FREQUENCY_CAP",
    "NO_CONSENT",
    "NO_QUIET_HOURS",
    "STOPPED",
    "UNREACHABLE",
    "ContactPolicy",
    "eligibility",
    "in_quiet_hours",
    "load_policy",
    "next_send_time",
    "quiet_from",
]

SETTINGS_KEY: Final = "contact_policy"

#: the stored quiet hours of a shop that switched them off: a window that starts when it ends
NO_QUIET_HOURS: Final = ("00:00", "00:00")

DEFAULT_CAPS: Final[Mapping[str, int]] = {
    "fan": 3,
    "regular": 2,
    "returning": 2,
    "new": 2,
    "lapsed": 1,
    "deal_seeker": 1,
    "other": 1,
}


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """Quiet hours (shop time, ``[start, end)``, may wrap midnight; start == end means none)
    and promotional caps per lifecycle group over a rolling window of ``cap_days``."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(9, 0)
    caps: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    cap_days: int = 7

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> ContactPolicy:
        """The policy from the stored JSON; missing or unusable entries keep their defaults."""
        base = cls()
        if not value:
            return base
        start, end = base.quiet_start, base.quiet_end
        hours = value.get("quiet_hours")
        if isinstance(hours, list | tuple) and len(hours) == 2:
            parsed = [_parse_time(str(item)) for item in hours]
            if parsed[0] is not None and parsed[1] is not None:
                start, end = parsed[0], parsed[1]
        caps = dict(DEFAULT_CAPS)
        raw_caps = value.get("caps")
        if isinstance(raw_caps, Mapping):
            for group, cap in raw_caps.items():
                if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0:
                    caps[str(group)] = cap
        days = value.get("cap_days")
        cap_days = days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else 7
        return cls(quiet_start=start, quiet_end=end, caps=caps, cap_days=cap_days)

    def to_setting(self) -> dict[str, Any]:
        return {
            "quiet_hours": [self.quiet_start.strftime("%H:%M"), self.quiet_end.strftime("%H:%M")],
            "caps": dict(self.caps),
            "cap_days": self.cap_days,
        }

    @property
    def has_quiet_hours(self) -> bool:
        """False when the owner switched quiet hours off: promotions go out at any hour."""
        return self.quiet_start != self.quiet_end

    def holds_overnight(self, local: time) -> bool:
        """Whether a promotion due at shop time ``local`` (naive) waits until the next day:
        it falls in quiet hours that run across midnight, before midnight (in the morning
        part, or in quiet hours within one day, it still goes the same day)."""
        start, end = self.quiet_start, self.quiet_end
        return self.has_quiet_hours and start > end and local >= start

    def cap_for(self, group: str) -> int:
        """Promotions a member of ``group`` may get per window (``other`` for unknown groups)."""
        return self.caps.get(group, self.caps.get("other", DEFAULT_CAPS["other"]))


def _parse_time(text: str) -> time | None:
    try:
        hour, _, minute = text.strip().partition(":")
        return time(int(hour), int(minute or 0))
    except ValueError:
        return None


def in_quiet_hours(moment: datetime, tz: ZoneInfo, policy: ContactPolicy) -> bool:
    """Whether ``moment`` (aware) falls inside the quiet hours, read in shop time ``tz``."""
    start, end = policy.quiet_start, policy.quiet_end
    if not policy.has_quiet_hours:
        return False
    local = moment.astimezone(tz).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_send_time(moment: datetime, tz: ZoneInfo, policy: ContactPolicy) -> datetime:
    """The earliest time at or after ``moment`` outside the quiet hours, as aware UTC.

    ``moment`` itself when it is not quiet; otherwise the end of the quiet period it is in
    (today's end, or tomorrow's when the period started before midnight).
    """
    if not in_quiet_hours(moment, tz, policy):
        return moment.astimezone(UTC)
    local = moment.astimezone(tz)
    day = local.date()
    if policy.quiet_start > policy.quiet_end and local.time().replace(tzinfo=None) >= (
        policy.quiet_start
    ):
        day += timedelta(days=1)
    return datetime.combine(day, policy.quiet_end, tzinfo=tz).astimezone(UTC)


def quiet_from(moment: datetime, tz: ZoneInfo, policy: ContactPolicy) -> datetime | None:
    """The first time at or after ``moment`` inside the quiet hours, as aware UTC: ``moment``
    itself when it is quiet, the next start of the quiet hours otherwise, None when the shop
    has none. A dispatcher works this out once per claim, so that telling whether a promotion
    may still go is one comparison per request."""
    if not policy.has_quiet_hours:
        return None
    if in_quiet_hours(moment, tz, policy):
        return moment.astimezone(UTC)
    local = moment.astimezone(tz)
    start = datetime.combine(local.date(), policy.quiet_start, tzinfo=tz)
    if start <= local:
        start = datetime.combine(local.date() + timedelta(days=1), policy.quiet_start, tzinfo=tz)
    return start.astimezone(UTC)


def eligibility(
    env: SegmentEnv,
    member_ids: MemberIds,
    *,
    promotional: bool = True,
    policy: ContactPolicy,
    lifecycle: LifecycleColumn | None = None,
    lookup: bool = False,
) -> EligibilityQuery:
    """One query giving, per member of ``member_ids`` (a select of ``members.id``), the rows
    ``(member_id, channel, user_id, excluded, lifecycle)``.

    ``excluded`` is None for a member who may be written to now, else the first reason that
    applies: ``no_consent`` (never agreed to marketing), ``stopped`` (agreed, then /stop),
    ``unreachable`` (no reachable chat account; ``channel``/``user_id`` are then NULL) or
    ``frequency_cap`` (the member's lifecycle group has had its ``policy`` caps this window).
    Transactional messages (``promotional=False``) are only ever ``unreachable``.
    ``env`` is the segment engine's environment (``now``, thresholds); the lifecycle group
    comes from ``storage.segments.lifecycle_group(env)`` unless ``lifecycle`` is given;
    ``lookup``: see ``storage.eligibility.eligibility_query`` (the same rows either way).
    """
    return eligibility_query(
        env,
        member_ids,
        promotional=promotional,
        caps=policy.caps,
        other_cap=policy.cap_for("other"),
        since=env.now - timedelta(days=policy.cap_days),
        lifecycle=lifecycle,
        lookup=lookup,
    )


class _SettingsReader(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...


async def load_policy(settings: _SettingsReader) -> ContactPolicy:
    """The shop's policy from its ``contact_policy`` setting (``uow.settings``)."""
    return ContactPolicy.from_setting(await settings.get(SETTINGS_KEY))
