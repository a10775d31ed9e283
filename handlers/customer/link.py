"""One-time codes that attach this chat account to an existing member.

- ``/link`` (a member) gives a code valid 10 minutes; ``/link CODE`` sent from the member's
  account on the OTHER channel attaches that account: one member, one ledger, one balance.
- ``/join CODE`` (a newcomer) takes over a member the shop imported, with the claim code staff
  got from ``/customer``; the sign-up then asks consents and only what the shop does not know.

Never by a phone number alone. Codes are single-use (spent by a conditional update), stored
hashed, and guessing is throttled per chat account: after 5 wrong codes in 15 minutes, codes
are not even looked at until the window has passed (``shop.throttle``: counted from audit rows,
which survive a restart and are shared by every process, one attempt at a time per account).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Final

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import channel_name, format_points, t
from handlers.context import Context
from handlers.customer import claim, signup
from handlers.customer.common import main_menu
from handlers.router import Audience, Command, Router
from shop.throttle import Throttle, locked_until
from storage.models import Member
from storage.repositories.members import CODE_ALPHABET
from storage.repositories.people import CLAIM, LINK

LINK_TTL: Final = timedelta(minutes=10)
LINK_CODE_LENGTH: Final = 8
MAX_FAILURES: Final = 5
FAILURE_WINDOW: Final = timedelta(minutes=15)
FAILED_LINK: Final = "link.failed"
FAILED_CLAIM: Final = "claim.failed"
#: audit actor of the audit rows written here (the member id goes in its own column)
CUSTOMER: Final = "customer"
#: wrong /link and /join codes share one throttle per chat account
GUESSING: Final = Throttle((FAILED_LINK, FAILED_CLAIM), MAX_FAILURES, FAILURE_WINDOW)


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _guesser(ctx: Context) -> str:
    """Who is guessing, for throttling: the chat account's row id (no platform user id)."""
    return f"identity:{ctx.identity.id}"


async def throttled(ctx: Context) -> bool:
    """True when this chat account may not try a code now; otherwise its attempt goes ahead
    alone (the account's other messages wait for this one's commit, see ``shop.throttle``)."""
    return await locked_until(ctx.uow, GUESSING, _guesser(ctx), ctx.now) is not None


async def _failed(ctx: Context, action: str, key: str) -> list[Reply]:
    """Record a wrong code (as a reply, not an error: the audit row must be committed)."""
    await ctx.uow.audit.record(_guesser(ctx), action, ctx.now, channel=ctx.channel)
    return [ctx.reply(key)]


async def link(ctx: Context) -> list[Reply]:
    """/link (anyone): without a code, a member gets one; with a code, this account joins the
    member who asked for it."""
    code = ctx.args.strip()
    if not code:
        if ctx.member is None:
            return [ctx.reply("link.how")]
        return await _issue(ctx, ctx.member)
    return await _use(ctx, code)


async def _issue(ctx: Context, member: Member) -> list[Reply]:
    code = new_code(LINK_CODE_LENGTH)
    await ctx.uow.people.withdraw_codes(member.id, LINK, ctx.now)  # one open code at a time
    await ctx.uow.people.create_code(code, LINK, member.id, ctx.now, ctx.now + LINK_TTL)
    await ctx.uow.audit.record(
        CUSTOMER, "link.code_issued", ctx.now, member_id=member.id, channel=ctx.channel
    )
    minutes = int(LINK_TTL.total_seconds() // 60)
    return [ctx.reply("link.code", minutes=minutes), Reply(text=f"/link {code}")]


async def _own_code(ctx: Context, code: str) -> bool:
    """Whether ``code`` (used, withdrawn or expired) was made for this account's own membership:
    sent again from the account it linked, or by the account that asked for it, it is no guess,
    so it is answered "already linked" and not counted towards the lock-out."""
    member = ctx.member
    return member is not None and await ctx.uow.people.code_for(code, LINK) == member.id


async def _use(ctx: Context, code: str) -> list[Reply]:
    uow, now = ctx.uow, ctx.now
    if await throttled(ctx):
        return [ctx.reply("link.throttled", minutes=int(FAILURE_WINDOW.total_seconds() // 60))]
    row = await uow.people.peek_code(code, LINK, now)
    if row is None and await _own_code(ctx, code):
        return [ctx.reply("link.already")]
    # the member's row held to the commit: an erasure in progress is waited for and then seen
    # (so no account is attached to the erased), and one that comes later waits for this link
    held = row is not None and await uow.members.hold_unerased(row.member_id)
    target = await uow.members.get(row.member_id) if held and row is not None else None
    if row is None or target is None:
        return await _failed(ctx, FAILED_LINK, "link.bad_code")
    if ctx.member is not None:
        return [ctx.reply("link.already" if ctx.member.id == target.id else "link.no_merge")]
    if await uow.people.identity_on(target.id, ctx.channel) is not None:
        return [ctx.reply("link.same_channel")]
    if await uow.people.use_code(row.code_hash, LINK, now) != target.id:
        return await _failed(ctx, FAILED_LINK, "link.bad_code")  # spent a moment ago
    others = [i for i in await uow.identities.of_member(target.id) if i.reachable]
    ctx.identity.member_id = target.id
    ctx.member = target
    ctx.locale = target.locale
    if ctx.state is not None:
        ctx.finish()  # a sign-up begun on this account is no longer needed
    await uow.audit.record(CUSTOMER, "member.linked", now, member_id=target.id, channel=ctx.channel)
    for other in others:  # the member hears of it where they already were (a security notice)
        channel = channel_name(target.locale, ctx.channel)  # in the language of who reads it
        notice = [Reply(text=t(target.locale, "link.notice", channel=channel))]
        await uow.outbox.enqueue(
            f"linked:{ctx.identity.id}:{other.id}",
            other.channel,
            other.user_id,
            replies_to_payload(notice),
            now,
            member_id=target.id,
        )
    balance = format_points(await uow.points.balance(target.id))
    done = ctx.reply("link.done", name=target.name or "", points=balance)
    return [Reply(text=done.text, buttons=main_menu(ctx))]


async def join(ctx: Context) -> list[Reply]:
    """/join [CODE] (anyone): without a code, the sign-up; with a claim code, the sign-up that
    takes over the imported member the code was made for."""
    code = ctx.args.strip()
    if not code:
        return await signup.start(ctx)
    if ctx.member is not None:
        return [ctx.reply("claim.already_member")]
    if await throttled(ctx):
        return [ctx.reply("link.throttled", minutes=int(FAILURE_WINDOW.total_seconds() // 60))]
    row = await ctx.uow.people.peek_code(code, CLAIM, ctx.now)
    target = None if row is None else await ctx.uow.members.get(row.member_id)
    if row is None or target is None or target.erased_at is not None:
        return await _failed(ctx, FAILED_CLAIM, "claim.bad_code")
    if await ctx.uow.people.identity_on(target.id, ctx.channel) is not None:
        return [ctx.reply("claim.gone")]
    found = ctx.reply(
        "claim.found",
        name=target.name or "",
        points=format_points(await ctx.uow.points.balance(target.id)),
    )
    data = {claim.CLAIM_ID: target.id, claim.CLAIM_VIA: "code", claim.CLAIM_CODE: row.code_hash}
    if ctx.state is not None and ctx.state.flow == signup.FLOW:
        ctx.state.data.update(data)
        ctx.state_changed = True
        return [found, *await signup.reask(ctx)]
    return [found, *await signup.begin_signup(ctx, data)]


def register(router: Router) -> None:
    """``/link [CODE]`` and ``/join [CODE]`` (anyone; they work in the middle of a sign-up)."""
    router.command(
        Command(
            "link",
            link,
            Audience.ANYONE,
            keywords=("link", "เชื่อมบัญชี"),
            during_flow=True,
            describe="link.command",
        )
    )
    router.command(
        Command(
            "join",
            join,
            Audience.ANYONE,
            keywords=("join",),
            during_flow=True,
            describe="claim.command",
        )
    )
