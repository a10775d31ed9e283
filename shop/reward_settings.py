"""The reward catalog as the owner changes it (chat /settings and the web console): a new
reward from its checked answers, a reward's cost or stock, switching one on or off — audited
``reward.created`` (what was saved) and ``reward.updated`` (before and after)."""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from shop.settings_changes import ChangedBy
from shop.settings_input import end_of, parse_day, parse_int, start_of
from storage.uow import UnitOfWork

MAX_COST: Final = 1_000_000
MAX_STOCK: Final = 1_000_000
MAX_VALID_DAYS: Final = 365
DEFAULT_VALID_DAYS: Final = 30
#: an edited number → the reward's column
NUMBER_COLUMNS: Final = {"cost": "points_cost", "stock": "stock"}


def parse_until(text: str, starts: str | None) -> str:
    """The last day (ISO), not before the first one."""
    day = parse_day(text)
    if starts is not None and day < date.fromisoformat(starts):
        raise InvalidInput("settings.until_before_from")
    return day.isoformat()


def parse_number(field: str, text: str) -> int:
    """A reward's cost (1..) or stock (0..) as typed."""
    if field == "cost":
        return parse_int(text, 1, MAX_COST)
    return parse_int(text, 0, MAX_STOCK)


def snapshot(data: dict[str, Any]) -> dict[str, Any]:
    keys = ("name_th", "name_en", "points_cost", "stock", "starts_at", "ends_at", "valid_days")
    return {key: data.get(key) for key in keys} | {"branch_codes": data.get("branch_codes", [])}


async def create_reward(uow: UnitOfWork, by: ChangedBy, tz: ZoneInfo, data: dict[str, Any]) -> int:
    """Save a reward from checked answers (names, ``points_cost``, ``stock`` or None, ISO
    ``starts_at``/``ends_at`` or None, ``branch_codes``, ``valid_days``); its id."""
    starts, ends = data.get("starts_at"), data.get("ends_at")
    reward = await uow.rewards.add(
        by.now,
        name_th=data["name_th"],
        name_en=data["name_en"],
        points_cost=data["points_cost"],
        stock=data.get("stock"),
        starts_at=start_of(date.fromisoformat(starts), tz) if starts else None,
        ends_at=end_of(date.fromisoformat(ends), tz) if ends else None,
        branch_codes=list(data.get("branch_codes", [])),
        valid_days=data["valid_days"],
    )
    await uow.audit.record(
        by.actor,
        "reward.created",
        by.now,
        channel=by.channel,
        reward_id=reward.id,
        after=snapshot(data),
    )
    return reward.id


async def set_number(
    uow: UnitOfWork, by: ChangedBy, reward_id: int, field: str, value: int | None
) -> bool:
    """Set reward ``reward_id``'s cost or stock (None: unlimited stock); False: no such."""
    reward = await uow.rewards.get(reward_id)
    column = NUMBER_COLUMNS.get(field)
    if reward is None or column is None or (value is None and field == "cost"):
        return False
    before = getattr(reward, column)
    setattr(reward, column, value)
    await uow.flush()
    await uow.audit.record(
        by.actor,
        "reward.updated",
        by.now,
        channel=by.channel,
        reward_id=reward.id,
        field=column,
        before=before,
        after=value,
    )
    return True


async def set_active(uow: UnitOfWork, by: ChangedBy, reward_id: int, active: bool) -> bool:
    """Switch a reward on (``active``) or off: the state the button names, never the opposite
    of what it finds (a double tap or a stale card does not undo itself); already so, nothing
    is written. False: no such reward."""
    reward = await uow.rewards.get(reward_id)
    if reward is None:
        return False
    if reward.active == active:
        return True
    before, reward.active = reward.active, active
    await uow.flush()
    await uow.audit.record(
        by.actor,
        "reward.updated",
        by.now,
        channel=by.channel,
        reward_id=reward.id,
        field="active",
        before=before,
        after=reward.active,
    )
    return True
