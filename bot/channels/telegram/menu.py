"""Per-chat Telegram command menus: staff see their commands, customers never do.

The default scope (set by ``chatcrm telegram setup``) lists customer commands only. A staff
member's private chat gets its own ``BotCommandScopeChat`` list — customer plus staff commands
of their role, in their language — when a reply to them carries ``meta["menu"] = <role>``
(after ``/claim``, ``/staffmenu``), and for every existing staff member at setup. A reply with
``meta["menu"] = "customer"`` (after removal) deletes the chat's list, so the default shows
again. A menu call that fails is logged and never stops the messages themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Final

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat

from bot.channels.telegram.outbound import call
from bot.core.errors import ChannelError
from bot.core.messages import Channel, Reply
from bot.i18n import supported_locale, t
from handlers.router import ROLES, Router
from handlers.staff.menu import CUSTOMER_MENU, LOCALE_META, MENU_META
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: names Telegram accepts as commands (others stay typed-only)
_COMMAND_SHAPE: Final = re.compile(r"[a-z0-9_]{1,32}")
#: Telegram keeps at most 100 commands per scope
MAX_COMMANDS: Final = 100


def menu_commands(router: Router, locale: str, role: str | None = None) -> list[BotCommand]:
    """The router's menu for ``role`` (None: customers) as Telegram commands."""
    commands = []
    for command in router.menu(role):
        if command.describe is None or _COMMAND_SHAPE.fullmatch(command.name) is None:
            continue
        description = t(locale, command.describe).strip()[:256] or command.name
        commands.append(BotCommand(command=command.name, description=description))
    return commands[:MAX_COMMANDS]


async def set_chat_menu(bot: Bot, router: Router, chat_id: int, role: str, locale: str) -> None:
    """Show ``role``'s commands in this chat only; ``"customer"`` goes back to the default."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    if role == CUSTOMER_MENU:
        await call(bot.delete_my_commands(scope=scope))
    elif role in ROLES:
        await call(bot.set_my_commands(commands=menu_commands(router, locale, role), scope=scope))
    else:
        log.warning("unknown menu %r requested for chat %s", role, chat_id)


async def apply_menus(
    bot: Bot, router: Router, chat_id: int, replies: Sequence[Reply], default_locale: str
) -> None:
    """Apply every menu request among ``replies`` (normally at most one); never raises."""
    for reply in replies:
        role = reply.meta.get(MENU_META)
        if not role:
            continue
        locale = _locale(reply.meta, default_locale)
        try:
            await set_chat_menu(bot, router, chat_id, role, locale)
        except ChannelError as error:
            log.warning("telegram menu %r for chat %s failed: %r", role, chat_id, error)
        except Exception:  # a menu is a convenience: it must not fail the delivery
            log.exception("telegram menu %r for chat %s crashed", role, chat_id)


def _locale(meta: Mapping[str, str], default: str) -> str:
    return supported_locale(meta.get(LOCALE_META)) or default


async def staff_menus(
    bot: Bot, router: Router, uow: UnitOfWorkFactory, default_locale: str
) -> list[str]:
    """Set the chat menu of every active Telegram staff account (``chatcrm telegram setup``);
    returns one line per account. Raises :class:`ChannelError` like the other setup calls."""
    done: list[str] = []
    async with uow() as work:
        per_role = {role: await work.outbox.staff_recipients([role]) for role in ROLES}
    for role, recipients in per_role.items():
        for person in recipients:
            if person.channel != Channel.TELEGRAM.value or not person.reachable:
                continue
            locale = (
                person.member_locale or supported_locale(person.language_code) or default_locale
            )
            await set_chat_menu(bot, router, int(person.user_id), role, locale)
            done.append(f"staff menu for staff #{person.staff_id} ({role}, {locale})")
    return done
