"""/help lists what the customer can do; /cancel leaves any conversation."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Audience, Handler, Router

#: staff commands (other audiences) never appear in a customer's help
CUSTOMER_AUDIENCES: Final = (Audience.ANYONE, Audience.MEMBER)


def help_handler(router: Router) -> Handler:
    """/help (anyone): one line per customer command of ``router.menu()``."""

    async def show_help(ctx: Context) -> list[Reply]:
        lines = [ctx.t("help.title")]
        for command in router.menu():
            if command.audience in CUSTOMER_AUDIENCES and command.describe:
                lines.append(f"/{command.name} — {ctx.t(command.describe)}")
        lines.append(ctx.t("help.footer"))
        return [Reply(text="\n".join(lines))]

    return show_help


async def cancel(ctx: Context) -> list[Reply]:
    """/cancel (anyone, also in the middle of a conversation): forget the current flow."""
    if ctx.state is None:
        return [ctx.reply("help.nothing_to_cancel")]
    ctx.finish()
    return [ctx.reply("help.cancelled")]
