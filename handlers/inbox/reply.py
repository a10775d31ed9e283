"""Staff answer and close inbox threads: [reply] opens the ``ibrf`` flow, [close] closes.

Who may: owners, branch-less managers, and managers of the thread's branch (threads of no
branch are everyone's); also the managers of a branch the customer rated low since the thread
opened: the low rating is stored in the customer's open thread, whichever branch that is (their
home branch's), and the alert with its [reply] button went to the rated branch's managers. The
router already refused anyone below manager, whatever the button.

An answer goes through the outbox (transactional, sent after commit, retried). When the
customer's channel has reply tokens (its capabilities say so: LINE) the row's payload also
carries the customer's last unused reply token and when it was issued
(``reply_token``/``reply_token_at``): the adapter replies for free while the token is fresh and
pushes otherwise. The token is cleared here so no second answer tries it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.config import Settings
from bot.core.capabilities import capabilities_of
from bot.core.errors import Conflict
from bot.core.ids import row_id
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import supported_locale, t
from handlers.context import Context
from shop.feedback import LOW_RATING
from shop.profile import shown_shop_name
from storage.models import InboxMessage, InboxThread
from storage.repositories.inbox import CLOSED, OPEN
from storage.uow import UnitOfWork

FLOW: Final = "ibrf"
MAX_ANSWER_CHARS: Final = 2000


@dataclass(frozen=True, slots=True)
class Answerer:
    """Who answers or closes a thread, and from where (the chat's channel, or the console)."""

    staff_id: int
    actor: str
    channel: str


def may_handle_as(role: str, branch_id: int | None, thread: InboxThread) -> bool:
    """The rule of the module docstring for a staff member of ``role`` at ``branch_id``."""
    if role == "owner" or branch_id is None or thread.branch_id is None:
        return True
    return branch_id == thread.branch_id


async def may_answer(
    uow: UnitOfWork, role: str, branch_id: int | None, thread: InboxThread
) -> bool:
    """:func:`may_handle_as`, or a manager of a branch the thread's customer rated low since
    the thread opened (the rule of the module docstring)."""
    if may_handle_as(role, branch_id, thread):
        return True
    if role != "manager" or branch_id is None or thread.member_id is None:
        return False
    return await uow.feedback.rated_at_most(
        thread.member_id, branch_id, LOW_RATING, thread.opened_at
    )


async def _thread(ctx: Context, raw: str) -> InboxThread | None:
    """The thread a button names, if it exists and this staff member may handle it."""
    thread_id = row_id(raw)
    staff = ctx.staff
    if thread_id is None or staff is None:
        return None
    thread = await ctx.uow.inbox.thread(thread_id)
    if thread is None or not await may_answer(ctx.uow, staff.role, staff.branch_id, thread):
        return None
    return thread


async def start_reply(ctx: Context) -> list[Reply]:
    """[reply] (``ibr:<thread>``): ask for the answer's text, showing the last message."""
    thread = await _thread(ctx, ctx.args)
    if thread is None:
        return [ctx.reply("error.not_allowed")]
    if thread.status != OPEN:
        return [ctx.reply("inbox2.already_closed")]
    last = await ctx.uow.inbox.last_message(thread.id, "in")
    ctx.begin(FLOW, "text", {"thread": thread.id})
    return [ctx.reply("inbox2.type_reply", text=last.text if last is not None else "—")]


async def reply_step(ctx: Context) -> list[Reply]:
    """The ``ibrf`` step: the staff member's text is the answer."""
    assert ctx.state is not None
    text = ctx.inbound.text.strip()[:MAX_ANSWER_CHARS]
    if not text:
        return [ctx.reply("inbox2.type_reply_again")]
    thread = await _thread(ctx, str(ctx.state.data.get("thread", "")))
    ctx.finish()
    if thread is None:
        return [ctx.reply("error.not_allowed")]
    if thread.status != OPEN:  # closed by someone else since [reply]: as the console, send nothing
        return [ctx.reply("inbox2.already_closed")]
    if not await send_answer(ctx, thread, text):
        return [ctx.reply("inbox2.unreachable")]
    return [ctx.reply("inbox2.sent")]


async def send_answer(ctx: Context, thread: InboxThread, text: str) -> bool:
    """Store and queue ``text`` to the thread's customer; False (nothing stored) when they
    cannot be reached (blocked the bot)."""
    assert ctx.staff is not None
    who = Answerer(ctx.staff.id, ctx.actor, ctx.channel)
    return await answer_thread(ctx.uow, thread, text, who, ctx.now, ctx.settings)


async def answer_thread(
    uow: UnitOfWork,
    thread: InboxThread,
    text: str,
    who: Answerer,
    now: datetime,
    settings: Settings,
) -> bool:
    """:func:`send_answer` for any caller (the chat, the web console): the same message, in
    the customer's language, through the outbox. :class:`Conflict` (the caller's transaction
    undoes the stored answer) when the outbox refuses its key as queued before."""
    identity = await uow.inbox.customer_of(thread)
    if identity is None or not identity.reachable:
        return False
    member = await uow.members.get(thread.member_id) if thread.member_id else None
    locale = (
        member.locale
        if member is not None
        else identity.chosen_locale or supported_locale(identity.language_code)
    ) or settings.locale
    last_in = await uow.inbox.last_message(thread.id, "in")
    message = await uow.inbox.add(
        identity.id,
        thread.member_id,
        text,
        now,
        thread_id=thread.id,
        direction="out",
        staff_id=who.staff_id,
    )
    shop = await shown_shop_name(uow, locale, settings.shop_name)
    shown = t(locale, "inbox2.from_shop", shop=shop, text=text)
    payload = replies_to_payload([Reply(text=shown)])
    if capabilities_of(identity.channel).reply_tokens:
        _spend_reply_token(payload, last_in)
    queued = await uow.outbox.enqueue(
        f"inbox:{thread.id}:r{message.id}",
        identity.channel,
        identity.user_id,
        payload,
        now,
        member_id=thread.member_id,
    )
    if not queued:  # the key was taken: staff must not hear "sent"; the answer is undone
        raise Conflict("inbox2.not_queued")
    if thread.first_response_at is None:
        thread.first_response_at = now
    thread.last_message_at = now
    await uow.audit.record(
        who.actor,
        "inbox.replied",
        now,
        member_id=thread.member_id,
        channel=who.channel,
        thread=thread.id,
    )
    return True


def _spend_reply_token(payload: dict[str, Any], last_in: InboxMessage | None) -> None:
    """Move the customer's last unused reply token (and when it was issued) into ``payload``;
    a token is single use, so the message no longer holds it."""
    if last_in is None or not last_in.reply_token:
        return
    payload["reply_token"] = last_in.reply_token
    payload["reply_token_at"] = last_in.received_at.isoformat()
    last_in.reply_token = None


async def close_thread(ctx: Context) -> list[Reply]:
    """[close] (``ibc:<thread>``): the thread is done; the customer's next text opens another."""
    thread = await _thread(ctx, ctx.args)
    if thread is None:
        return [ctx.reply("error.not_allowed")]
    if thread.status == CLOSED:
        return [ctx.reply("inbox2.already_closed")]
    assert ctx.staff is not None
    await close(ctx.uow, thread, Answerer(ctx.staff.id, ctx.actor, ctx.channel), ctx.now)
    return [ctx.reply("inbox2.closed")]


async def close(uow: UnitOfWork, thread: InboxThread, who: Answerer, now: datetime) -> None:
    """Close ``thread`` (open) and audit ``inbox.closed``."""
    thread.status = CLOSED
    thread.closed_at = now
    thread.closed_by_staff_id = who.staff_id
    await uow.audit.record(
        who.actor,
        "inbox.closed",
        now,
        member_id=thread.member_id,
        channel=who.channel,
        thread=thread.id,
    )
