"""/help lists what the person can do; /cancel leaves any conversation."""

from __future__ import annotations

from typing import Final

from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Audience, Handler, Router

#: staff commands (other audiences) never appear in a customer's help
CUSTOMER_AUDIENCES: Final = (Audience.ANYONE, Audience.MEMBER)


def help_handler(router: Router) -> Handler:
    """/help (anyone): one line per customer command of ``router.menu()``; for an active staff
    account, then a heading and the staff commands its role may use (nobody else sees them)."""

    async def show_help(ctx: Context) -> list[Reply]:
        lines = [ctx.t("help.title")]
        role = ctx.staff.role if ctx.staff is not None else None
        commands = router.menu(role)
        for command in commands:
            if command.audience in CUSTOMER_AUDIENCES and command.describe:
                lines.append(f"/{command.name} — {ctx.t(command.describe)}")
        lines.append(ctx.t("help.footer"))
        staff_lines = [
            f"/{command.name} — {ctx.t(command.describe)}"
            for command in commands
            if command.audience.is_staff and command.describe
        ]
        if staff_lines:
            lines += ["", ctx.t("staff.help_heading"), *staff_lines]
        return [Reply(text="\n".join(lines))]

    return show_help


async def cancel(ctx: Context) -> list[Reply]:
    """/cancel (anyone, also in the middle of a conversation): forget the current flow."""
    if ctx.state is None:
        return [ctx.reply("help.nothing_to_cancel")]
    ctx.finish()
    return [ctx.reply("help.cancelled")]
