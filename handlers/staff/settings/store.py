"""Writing one /settings change from the chat: :func:`shop.settings_changes.save_setting`
with the chat's staff member, channel and time."""

from __future__ import annotations

from typing import Any

from handlers.context import Context
from shop.settings_changes import ChangedBy, save_setting


def changed_by(ctx: Context) -> ChangedBy:
    return ChangedBy(ctx.actor, ctx.channel, ctx.now)


async def save_change(
    ctx: Context,
    key: str,
    stored: dict[str, Any],
    *,
    field: str,
    before: Any,
    after: Any,
    **more: Any,
) -> None:
    """Store ``stored`` as shop setting ``key`` and audit ``settings.changed`` for ``field``."""
    await save_setting(
        ctx.uow, key, stored, changed_by(ctx), field=field, before=before, after=after, **more
    )
