"""The console's inbox: open threads, a thread's messages, reply and close.

The same rules as the chat's ``/inbox`` (:mod:`handlers.inbox.reply`): a manager of a branch
sees that branch's threads and those of customers with no home branch; another branch's thread
is a 404 like a thread that does not exist. A reply is the chat's own answer — the same text on
the customer's channel, in their language, through the outbox (so the dispatcher's send budget
and retries apply) — audited with the staff member as actor.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bot.admin.answers import done, done_word, form_text, not_found
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.core.errors import Conflict
from handlers.inbox.reply import MAX_ANSWER_CHARS, Answerer, answer_thread, close, may_answer
from shop.console import Viewer
from storage.models import InboxThread
from storage.repositories.inbox import OPEN
from storage.uow import UnitOfWork

LISTED: Final = 100
#: the channel the audit names for a change made in the console
CHANNEL: Final = "web"


def answerer(viewer: Viewer) -> Answerer:
    return Answerer(viewer.staff_id, viewer.actor, CHANNEL)


async def threads(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        found = await uow.inbox.open_threads(viewer.branch_id, LISTED)
    return page(
        request,
        viewer,
        viewer.locale,
        "inbox.html",
        title_key="admin_inbox.title",
        threads=found,
    )


async def _thread(uow: UnitOfWork, viewer: Viewer, raw: str) -> InboxThread | None:
    thread = await uow.inbox.thread(int(raw[:18]))
    if thread is None or not await may_answer(uow, viewer.role, viewer.branch_id, thread):
        return None
    return thread


async def thread(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        found = await _thread(uow, viewer, request.match_info["thread_id"])
        if found is None:
            return not_found(request)
        messages = await uow.inbox.messages(found.id)
        member = await uow.members.get(found.member_id) if found.member_id else None
        identity = await uow.inbox.customer_of(found)
    name = (member.name if member is not None else None) or (
        identity.display_name if identity is not None else None
    )
    return page(
        request,
        viewer,
        viewer.locale,
        "inbox_thread.html",
        title_key="admin_inbox.thread_title",
        thread=found,
        is_open=found.status == OPEN,
        name=name or "?",
        member=member if member is not None and member.erased_at is None else None,
        messages=messages,
        done=done_word(request),
        max_chars=MAX_ANSWER_CHARS,
    )


async def reply(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    text = form_text(await request.post(), "text", MAX_ANSWER_CHARS * 2).strip()
    location = f"/admin/inbox/{request.match_info['thread_id'][:18]}"
    async with app.uow() as uow:
        found = await _thread(uow, viewer, request.match_info["thread_id"])
        if found is None:
            return not_found(request)
        if found.status != OPEN:
            return done(location, "closed")
        if not text:
            return done(location, "empty")
        try:
            sent = await answer_thread(
                uow, found, text[:MAX_ANSWER_CHARS], answerer(viewer), app.clock.now(), app.settings
            )
        except Conflict:  # the outbox refused its key: nothing is kept, nothing was sent
            return done(location, "not_queued")
        await uow.commit()
    return done(location, "sent" if sent else "unreachable")


async def close_thread(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        found = await _thread(uow, viewer, request.match_info["thread_id"])
        if found is None:
            return not_found(request)
        if found.status == OPEN:
            await close(uow, found, answerer(viewer), app.clock.now())
            await uow.commit()
    return done(f"/admin/inbox/{found.id}", "closed")
