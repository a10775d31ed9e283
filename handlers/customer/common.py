"""Small pieces several customer handlers share: menus, labels, the audit trail."""

from __future__ import annotations

from typing import Any, Final

from bot.core.keys import CommandAction
from bot.core.messages import Button
from handlers.context import Context
from shop.loyalty import Tier
from storage.models import Branch
from storage.repositories.branches import OpenBranch
from wording.loyalty import tier_name

#: the main menu a member sees after /start, as command presses
MENU_COMMANDS: Final = ("card", "points", "rewards", "history", "profile", "help")
GENDERS: Final = ("female", "male", "other")
SELF_ACTOR: Final = "customer"


def command_button(ctx: Context, command: str) -> Button:
    return Button(label=ctx.t(f"menu.{command}"), action=CommandAction(command).format())


def main_menu(ctx: Context) -> tuple[Button, ...]:
    return tuple(command_button(ctx, name) for name in MENU_COMMANDS)


def join_button(ctx: Context) -> Button:
    return Button(label=ctx.t("menu.join"), action=CommandAction("start").format())


def tier_label(ctx: Context, tier: Tier) -> str:
    """The tier's name as the member reads it (the owner's display name in their language)."""
    return tier_name(ctx.locale, tier)


def branch_name(branch: Branch | OpenBranch | None, locale: str) -> str:
    if branch is None:
        return "-"
    return branch.name_th if locale == "th" else branch.name_en


def gender_label(ctx: Context, gender: str | None) -> str:
    return ctx.t(f"signup.gender_{gender}") if gender in GENDERS else ctx.t("profile.not_given")


async def audit(ctx: Context, action: str, member_id: int | None, **details: Any) -> None:
    """Record a customer's own action; callers pass no personal data in ``details``.

    The actor is the role, not the chat account id: the audit log is never edited, so an
    account id written here would outlive the member's erasure.
    """
    await ctx.uow.audit.record(
        SELF_ACTOR, action, ctx.now, member_id=member_id, channel=ctx.channel, **details
    )
