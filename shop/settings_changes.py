"""Saving a /settings change, for the chat and the web console alike: the parsed value into
its shop setting and a ``settings.changed`` audit entry (before and after, the staff member as
actor) in the same unit of work, so a change is never stored without its trace.

Every writer parses first (:mod:`shop.settings_values`): a refused value raises
:class:`~bot.core.errors.InvalidInput` before anything is written, so it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final

from bot.core.errors import InvalidInput
from shop.automations import automation_config
from shop.contact_policy import NO_QUIET_HOURS, ContactPolicy
from shop.contact_policy import SETTINGS_KEY as POLICY_KEY
from shop.loyalty import SETTINGS_KEY as LOYALTY_KEY
from shop.loyalty import TIER_NAMES, load_rules
from shop.settings_values import (
    CAP_GROUPS,
    RESET_WORDS,
    parse_cap,
    parse_cap_days,
    parse_quiet_hours,
    parse_tier_label,
)
from storage.uow import UnitOfWork

#: the contact policy's fields a staff member edits one at a time
POLICY_FIELDS: Final = ("quiet", "days", "cap")
LABEL_LOCALES: Final = ("th", "en")


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """Who changes a setting (``staff:<id>``), from which channel, when."""

    actor: str
    channel: str | None
    now: datetime


async def save_setting(
    uow: UnitOfWork,
    key: str,
    stored: dict[str, Any],
    by: ChangedBy,
    *,
    field: str,
    before: Any,
    after: Any,
    entry: str | tuple[str, ...] | None = None,
    **more: Any,
) -> None:
    """Store ``stored`` as shop setting ``key`` and audit ``settings.changed`` for ``field``.
    With ``entry`` (a key, or a path into nested entries), only that entry of ``stored`` is
    written, into the setting as it is when written
    (:meth:`storage.repositories.settings.ShopSettings.put`): two staff changing two entries
    of one setting at once keep both changes."""
    await uow.settings.put(key, stored, by.now, only=entry)
    await uow.audit.record(
        by.actor,
        "settings.changed",
        by.now,
        channel=by.channel,
        key=key,
        field=field,
        before=before,
        after=after,
        **more,
    )


def quiet_hours(policy: ContactPolicy) -> list[str]:
    return [policy.quiet_start.strftime("%H:%M"), policy.quiet_end.strftime("%H:%M")]


def refuse_greeting_overnight(policy: ContactPolicy, hour: int, key: str) -> None:
    """Refuse (``InvalidInput(key)``) a birthday greeting hour that the quiet hours would hold
    until the next day: the greeting, a promotion, would reach the member after their birthday.
    (An hour in the morning part of the quiet hours only waits until they end, the same day.)
    Both the greeting hour and the quiet hours are checked against the other when either
    changes, so the greeting always reaches the member on the day."""
    if policy.holds_overnight(time(hour)):
        start, end = quiet_hours(policy)
        raise InvalidInput(key, hour=f"{hour:02d}:00", start=start, end=end)


async def switch_quiet_hours_off(uow: UnitOfWork, by: ChangedBy) -> None:
    """No quiet hours: the dispatcher never holds a promotion back (audited like any change)."""
    stored = await uow.settings.get(POLICY_KEY) or {}
    before = quiet_hours(ContactPolicy.from_setting(stored))
    after = list(NO_QUIET_HOURS)
    stored["quiet_hours"] = after
    await save_setting(
        uow,
        POLICY_KEY,
        stored,
        by,
        field="quiet_hours",
        before=before,
        after=after,
        entry="quiet_hours",
    )


async def set_contact_policy(
    uow: UnitOfWork, by: ChangedBy, field: str, group: str, text: str
) -> None:
    """One entry of the contact policy from what was typed: ``quiet`` (``21:00-09:00``),
    ``days`` (the caps' window) or ``cap`` of lifecycle ``group``; only that entry changes,
    also when another staff member changes another at the same moment."""
    if field not in POLICY_FIELDS or (field == "cap" and group not in CAP_GROUPS):
        raise ValueError(f"no contact policy field {field!r} {group!r}")
    value: Any
    if field == "quiet":
        value = parse_quiet_hours(text)
    elif field == "days":
        value = parse_cap_days(text)
    else:
        value = parse_cap(text)
    stored = await uow.settings.get(POLICY_KEY) or {}
    policy = ContactPolicy.from_setting(stored)
    more: dict[str, Any] = {}
    if field == "quiet":
        greeting = int((await automation_config(uow, "birthday"))["hour"])
        refuse_greeting_overnight(
            ContactPolicy.from_setting({"quiet_hours": value}),
            greeting,
            "prefs.quiet_covers_greeting",
        )
        before: Any = quiet_hours(policy)
        stored["quiet_hours"] = value
        entry: str | tuple[str, ...] = "quiet_hours"
    elif field == "days":
        before, entry = policy.cap_days, "cap_days"
        stored["cap_days"] = value
    else:
        before, entry = policy.cap_for(group), ("caps", group)
        stored["caps"] = {group: value}
        more["group"] = group
    name = entry if isinstance(entry, str) else entry[0]
    await save_setting(
        uow, POLICY_KEY, stored, by, field=name, before=before, after=value, entry=entry, **more
    )


async def set_tier_label(uow: UnitOfWork, by: ChangedBy, tier: str, locale: str, text: str) -> bool:
    """A tier's display name in ``locale`` (``-`` restores the built-in one); False when no
    such tier (renamed or removed since the page was shown) and nothing changed."""
    rules = await load_rules(uow)
    found = next((t for t in rules.tiers if t.name == tier), None)
    if found is None or locale not in LABEL_LOCALES:
        return False
    typed = text.strip()
    label = "" if typed.casefold() in RESET_WORDS else parse_tier_label(typed)
    stored = await uow.settings.get(LOYALTY_KEY) or {}
    # only this tier's label in this language is written: another owner naming another tier
    # or language at the same moment keeps theirs
    stored[TIER_NAMES] = {tier: {locale: label}}
    await save_setting(
        uow,
        LOYALTY_KEY,
        stored,
        by,
        field=TIER_NAMES,
        entry=(TIER_NAMES, tier, locale),
        tier=tier,
        locale=locale,
        before=found.own_label(locale),
        after=label,
    )
    return True
