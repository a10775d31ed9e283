"""The automations' switches and numbers as the owner sets them (chat /settings and the web
console): which shop setting holds each, which whole numbers may be typed and in what range,
and the one writer that changes a single field and audits it.

The automations of :mod:`jobs.automations` keep their settings in the ``automations`` shop
setting (one JSON object per automation, read by ``automation_config`` over ``DEFAULTS``); the
post-purchase feedback and the owner's digest keep theirs in their own ``feedback`` and
``digest`` settings. A change rewrites only the edited field of the edited automation, so keys
written by other parts of the product survive, and is audited ``settings.changed`` with the
value before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from shop.automations import (
    DEFAULTS,
    MAX_HOLDOUT,
    NOTICE_HOLDOUT,
    SETTINGS_KEY,
    automation_config,
)
from shop.contact_policy import load_policy
from shop.settings_changes import ChangedBy, refuse_greeting_overnight, save_setting
from shop.settings_values import (
    GIFT_AUTOMATIONS,
    TEXT_AUTOMATIONS,
    parse_automation_text,
    parse_gift,
    parse_whole,
)
from storage.uow import UnitOfWork

#: the hold-out share every automation lets the owner type (0 = everyone gets the message)
HOLDOUT: Final = (0, MAX_HOLDOUT)
TEXT_LOCALES: Final = ("th", "en")


@dataclass(frozen=True)
class Automation:
    """One switchable automation: where its settings live and which numbers may be typed."""

    name: str
    key: str  #: the shop setting holding it
    nested: bool  #: True: ``{key: {name: {...}}}``; False: ``{key: {...}}``
    defaults: dict[str, Any]
    #: field → (lowest, highest) whole number the owner may type
    fields: dict[str, tuple[int, int]]
    #: the on/off field its button switches
    switch: str = "enabled"


AUTOMATIONS: Final[tuple[Automation, ...]] = (
    Automation(
        "birthday",
        SETTINGS_KEY,
        True,
        dict(DEFAULTS["birthday"]),
        {"hour": (0, 23), "days_before": (0, 30), "holdout_pct": HOLDOUT},
    ),
    Automation(
        "winback",
        SETTINGS_KEY,
        True,
        dict(DEFAULTS["winback"]),
        {
            "lapsed_days": (7, 730),
            "cooldown_days": (0, 365),
            "max_tries": (1, 10),
            "holdout_pct": HOLDOUT,
        },
    ),
    # notices: hold-out 0% unless the owner keeps one
    Automation(
        "expiry",
        SETTINGS_KEY,
        True,
        dict(DEFAULTS["expiry"]),
        {"remind_days": (1, 180), "holdout_pct": HOLDOUT},
    ),
    Automation(
        "tiers",
        SETTINGS_KEY,
        True,
        dict(DEFAULTS["tiers"]),
        {"review_day": (1, 28), "holdout_pct": HOLDOUT},
    ),
    # defaults as jobs/feedback.py and jobs/digest.py read them when the setting is absent
    Automation(
        "feedback",
        "feedback",
        False,
        {"enabled": True, "after_hours": 3, "holdout_pct": NOTICE_HOLDOUT},
        {"after_hours": (1, 72), "holdout_pct": HOLDOUT},
    ),
    Automation("digest", "digest", False, {"enabled": True, "hour": 8}, {"hour": (0, 23)}),
    # the managers' digest (their branch's numbers) is a second switch of the same setting
    Automation("digest_managers", "digest", False, {"managers": True}, {}, switch="managers"),
)
BY_NAME: Final = {automation.name: automation for automation in AUTOMATIONS}


async def load_values(
    uow: UnitOfWork, automation: Automation
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the whole stored setting, this automation's values: defaults with stored ones over)."""
    stored = await uow.settings.get(automation.key) or {}
    mine = stored.get(automation.name) if automation.nested else stored
    values = dict(automation.defaults)
    if isinstance(mine, dict):
        values.update({k: v for k, v in mine.items() if k in values})
    return stored, values


async def save_field(
    uow: UnitOfWork, by: ChangedBy, automation: Automation, field: str, value: Any
) -> Any:
    """Store one field of one automation; returns the value it had before."""
    stored, values = await load_values(uow, automation)
    before = values[field]
    # only this field is written, into the setting as stored then: another owner's change
    # to another field at the same moment stays
    if automation.nested:
        stored[automation.name] = {field: value}
        entry: tuple[str, ...] = (automation.name, field)
    else:
        stored[field] = value
        entry = (field,)
    await uow.settings.put(automation.key, stored, by.now, only=entry)
    await uow.audit.record(
        by.actor,
        "settings.changed",
        by.now,
        channel=by.channel,
        key=automation.key,
        automation=automation.name,
        field=field,
        before=before,
        after=value,
    )
    return before


async def switch_to(uow: UnitOfWork, by: ChangedBy, automation: Automation, on: bool) -> bool:
    """Switch ``automation`` on (``on``) or off: the state the button names, never the
    opposite of what it finds (a second press or a stale page does not undo itself); already
    so, nothing is written. Returns whether it changed."""
    _, values = await load_values(uow, automation)
    if bool(values[automation.switch]) == on:
        return False
    await save_field(uow, by, automation, automation.switch, on)
    return True


async def set_number(
    uow: UnitOfWork, by: ChangedBy, automation: Automation, field: str, text: str
) -> int:
    """One of ``automation``'s numbers from what was typed (``settings.bad_int`` outside its
    range, ``prefs.greeting_in_quiet`` for a birthday hour the quiet hours would hold until
    the next day; nothing changed)."""
    low, high = automation.fields[field]
    value = parse_whole(text, low, high)
    if (automation.name, field) == ("birthday", "hour"):
        policy = await load_policy(uow.settings)
        refuse_greeting_overnight(policy, value, "prefs.greeting_in_quiet")
    await save_field(uow, by, automation, field, value)
    return value


async def _save_config(uow: UnitOfWork, by: ChangedBy, name: str, field: str, value: Any) -> None:
    stored = await uow.settings.get(SETTINGS_KEY) or {}
    before = (await automation_config(uow, name))[field]
    stored[name] = {field: value}
    await save_setting(
        uow,
        SETTINGS_KEY,
        stored,
        by,
        automation=name,
        field=field,
        before=before,
        after=value,
        entry=(name, field),
    )


async def set_text(uow: UnitOfWork, by: ChangedBy, name: str, locale: str, text: str) -> bool:
    """The message of automation ``name`` in ``locale``, checked against the campaigns'
    placeholders (``-``: the built-in wording); False when ``name`` has no message."""
    if name not in TEXT_AUTOMATIONS or locale not in TEXT_LOCALES:
        return False
    value = parse_automation_text(text)
    await _save_config(uow, by, name, f"text_{locale}", value)
    return True


async def set_gift(uow: UnitOfWork, by: ChangedBy, name: str, kind: str, text: str) -> bool:
    """The gift automation ``name`` gives: an offer ``kind`` and its typed value, checked like
    a campaign's offer; False when ``name`` gives no gift."""
    if name not in GIFT_AUTOMATIONS:
        return False
    value = parse_gift(kind, text)
    await _save_config(uow, by, name, "gift", value)
    return True
