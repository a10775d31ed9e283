"""The preview's "size the hold-out" button (its own module: the preview shows it, and
:mod:`handlers.staff.campaigns.power`, which answers it, uses the preview's reach)."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Button
from handlers.context import Context
from storage.models import Campaign

ACTION: Final = "cmpp"


def power_button(ctx: Context, campaign: Campaign) -> Button:
    return Button(ctx.t("campaign.power_button"), f"{ACTION}:{campaign.id}")
