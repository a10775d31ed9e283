"""/language: ไทย or English, kept for everyone who picks it: on the member, and on the chat
account (staff who are not members, people in the middle of signing up, anyone)."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Button, Reply
from bot.i18n import LOCALES
from handlers.context import Context
from shop.erased import hold_member

ACTIONS: Final = "lang"


async def choose_language(ctx: Context) -> list[Reply]:
    """/language (anyone): one button per supported language, each named in itself."""
    buttons = tuple(Button(ctx.t(f"language.name_{code}"), f"{ACTIONS}:{code}") for code in LOCALES)
    return [ctx.reply("language.choose", *buttons)]


async def set_language(ctx: Context) -> list[Reply]:
    """A language button: switch the catalog at once, and keep the choice on the chat account
    (it wins over the platform's hint from then on) and on the member, if any."""
    code = ctx.args
    if code not in LOCALES:
        return [ctx.reply("error.button_expired")]
    if ctx.member is not None:
        await hold_member(ctx.uow, ctx.member.id)  # erased meanwhile: nothing is written
    ctx.locale = code
    ctx.identity.chosen_locale = code
    if ctx.member is not None:
        ctx.member.locale = code
    # Nothing is written into a flow in progress: its data is its own (an owner editing the Thai
    # birthday text keeps its "locale" = th), and the sign-up reads the choice from the chat
    # account like every other step (``identity.chosen_locale``).
    return [ctx.reply("language.changed")]
