"""Writing one /settings change: the new value of a shop setting and its audit entry (before
and after) in the same unit of work, so a change is never stored without its trace."""

from __future__ import annotations

from typing import Any

from handlers.context import Context


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
    await ctx.uow.settings.put(key, stored, ctx.now)
    await ctx.uow.audit.record(
        ctx.actor,
        "settings.changed",
        ctx.now,
        channel=ctx.channel,
        key=key,
        field=field,
        before=before,
        after=after,
        **more,
    )
