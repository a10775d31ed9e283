"""/inbox (managers and owners): open threads, longest waiting first, with [reply] [close].

Cashiers do not get it: the alerts go to managers and owners, who answer for the shop. A
manager with a branch sees that branch's threads and those of customers with no home branch;
owners and branch-less managers see all.
"""

from __future__ import annotations

from typing import Final

from bot.core.graphemes import fit
from bot.core.messages import Reply
from handlers.context import Context
from handlers.inbox import reply, threads
from handlers.router import Audience, Command, Router, action_button

LISTED: Final = 10


def waited(ctx: Context, seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return ctx.t("inbox2.minutes", n=minutes)
    hours = minutes // 60
    if hours < 48:
        return ctx.t("inbox2.hours", n=hours)
    return ctx.tn("inbox2.days", hours // 24)


async def list_inbox(ctx: Context) -> list[Reply]:
    """One message per open thread: who, their last message, how long ago."""
    assert ctx.staff is not None
    branch = None if ctx.staff.role == "owner" else ctx.staff.branch_id
    open_threads = await ctx.uow.inbox.open_threads(branch, LISTED)
    if not open_threads:
        return [ctx.reply("inbox2.empty")]
    out = [ctx.reply("inbox2.title", n=len(open_threads))]
    for item in open_threads:
        text = ctx.t(
            "inbox2.line",
            name=item.name,
            text=fit(item.last_text, threads.PREVIEW_CHARS) or "—",
            waited=waited(ctx, (ctx.now - item.waiting_since).total_seconds()),
        )
        buttons = (
            action_button(ctx.t("inbox2.reply_button"), threads.REPLY_ACTION, str(item.thread_id)),
            action_button(ctx.t("inbox2.close_button"), threads.CLOSE_ACTION, str(item.thread_id)),
        )
        out.append(Reply(text=text, buttons=buttons))
    return out


def register(router: Router) -> None:
    """``/inbox``, the [reply]/[close] buttons and the answer flow (managers and owners)."""
    manager = Audience.MANAGER
    router.command(
        Command("inbox", list_inbox, manager, keywords=("inbox",), describe="inbox2.cmd")
    )
    router.action(threads.REPLY_ACTION, reply.start_reply, manager)
    router.action(threads.CLOSE_ACTION, reply.close_thread, manager)
    router.flow(reply.FLOW, reply.reply_step, manager)
