"""Who a /settings change from the chat is made by: the chat's staff member, channel and
time, for :mod:`shop.settings_changes`."""

from __future__ import annotations

from handlers.context import Context
from shop.settings_changes import ChangedBy


def changed_by(ctx: Context) -> ChangedBy:
    return ChangedBy(ctx.actor, ctx.channel, ctx.now)
