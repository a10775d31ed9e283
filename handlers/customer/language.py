"""/language: ไทย or English, for members (stored) and for anyone else (this reply)."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Button, Reply
from bot.i18n import LOCALES
from handlers.context import Context

ACTIONS: Final = "lang"


async def choose_language(ctx: Context) -> list[Reply]:
    """/language (anyone): one button per supported language, each named in itself."""
    buttons = tuple(Button(ctx.t(f"language.name_{code}"), f"{ACTIONS}:{code}") for code in LOCALES)
    return [ctx.reply("language.choose", *buttons)]


async def set_language(ctx: Context) -> list[Reply]:
    """A language button: switch the catalog at once; a member keeps the choice.

    A non-member has no row to keep it on (chat identities take the platform's hint on every
    event), so the choice answers in that language and is carried into a sign-up in progress.
    """
    code = ctx.args
    if code not in LOCALES:
        return [ctx.reply("error.button_expired")]
    ctx.locale = code
    if ctx.member is not None:
        ctx.member.locale = code
    elif ctx.state is not None:
        ctx.state.data["locale"] = code  # the sign-up reads it on its next step
        ctx.state_changed = True
    return [ctx.reply("language.changed")]
