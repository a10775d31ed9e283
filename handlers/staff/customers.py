"""Staff and the shop's customers: ``/customer`` (look up), ``/tag``, ``/note``, and the claim
code for a member the shop imported (cashiers and up, at every branch: customers belong to the
shop, not to a branch).

Every look-up of personal data is audited (``customer.viewed``), as is every change.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Final

from bot.core.errors import InvalidInput, NotFound
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_datetime
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.customer_card import describe_member
from handlers.staff.lookup import find_member, member_code_in, nobody_found, phone_in
from shop.inputs import parse_phone
from shop.member_notes import MAX_NOTE, add_note, change_tags, clean_note
from storage.models import Member
from storage.repositories.members import CODE_ALPHABET
from storage.repositories.people import CLAIM

ACTIONS: Final = "cust"
MAX_MATCHES: Final = 5
#: lowercase letters, digits, ``_`` and ``-``, and Thai (letters, vowels, tone marks, digits)
#: the longest way a phone is written in words: ``+66 81 234 5678``
_MAX_MEMBER_WORDS: Final = 5
CLAIM_TTL: Final = timedelta(days=7)
CLAIM_CODE_GROUP: Final = 5  # two groups of five: ~49 bits, read aloud easily


def _names_member(text: str) -> bool:
    if member_code_in(text):
        return True
    try:
        parse_phone(text)
    except InvalidInput:
        return False
    return True


def split_member(text: str) -> tuple[str, str]:
    """(the words naming a member, the rest) for ``/tag`` and ``/note``: a phone may be
    written in several words, so the shortest leading words that read as a phone number or a
    member code name the member; otherwise the first word does."""
    words = text.split()
    for count in range(1, min(len(words), _MAX_MEMBER_WORDS) + 1):
        candidate = " ".join(words[:count])
        if _names_member(candidate):
            rest = text.split(None, count)
            return candidate, rest[count] if len(rest) > count else ""
    head = text.split(None, 1)
    return (head[0] if head else ""), (head[1] if len(head) > 1 else "")


async def _show(ctx: Context, member: Member) -> list[Reply]:
    await ctx.uow.audit.record(
        ctx.actor, "customer.viewed", ctx.now, member_id=member.id, channel=ctx.channel
    )
    buttons: tuple[Button, ...] = ()
    if not await ctx.uow.people.has_identity(member.id):
        buttons = (Button(ctx.t("customer.claim_button"), f"{ACTIONS}:claim:{member.id}"),)
    return [Reply(text=await describe_member(ctx, member), buttons=buttons)]


async def customer_command(ctx: Context) -> list[Reply]:
    """/customer QUERY (cashier+): a phone, member code, card-QR payload, or part of a name.
    Several name matches come back as buttons (at most five); the chosen one is shown."""
    query = ctx.args.strip()
    if not query:
        return [ctx.reply("customer.usage")]
    try:
        return await _show(ctx, await find_member(ctx.uow, query))
    except NotFound:
        if _names_member(query):
            raise
    matches = await ctx.uow.people.search_by_name(query, MAX_MATCHES + 1)
    if not matches:
        raise NotFound("error.member_not_found", query=query[:40])
    if len(matches) == 1:
        return await _show(ctx, matches[0])
    buttons = tuple(
        Button(f"{m.name or '-'} · {m.member_code}", f"{ACTIONS}:show:{m.id}")
        for m in matches[:MAX_MATCHES]
    )
    key = "customer.choose_more" if len(matches) > MAX_MATCHES else "customer.choose"
    return [Reply(text=ctx.t(key, query=query[:40], count=MAX_MATCHES), buttons=buttons)]


async def _member_by_id(ctx: Context, raw: str) -> Member:
    member_id = row_id(raw)
    member = None if member_id is None else await ctx.uow.members.get(member_id)
    if member is None or member.erased_at is not None:
        raise NotFound("error.member_not_found", query=raw[:40])
    return member


async def on_button(ctx: Context) -> list[Reply]:
    """``cust:show:<id>`` (a pick among name matches) and ``cust:claim:<id>`` (cashier+; the
    router checked the role, whatever the button said)."""
    verb, _, raw = ctx.args.partition(":")
    member = await _member_by_id(ctx, raw)
    if verb == "show":
        return await _show(ctx, member)
    if verb == "claim":
        return await _claim_code(ctx, member)
    return [ctx.reply("error.button_expired")]


async def _claim_code(ctx: Context, member: Member) -> list[Reply]:
    """A code the customer sends as ``/join CODE`` to take over this imported member. A new
    code replaces any earlier one; a member who already chats with the bot needs none."""
    if await ctx.uow.people.has_identity(member.id):
        return [ctx.reply("customer.claim_not_needed", name=member.name or member.member_code)]
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(2 * CLAIM_CODE_GROUP))
    code = f"{raw[:CLAIM_CODE_GROUP]}-{raw[CLAIM_CODE_GROUP:]}"
    expires = ctx.now + CLAIM_TTL
    await ctx.uow.people.withdraw_codes(member.id, CLAIM, ctx.now)
    await ctx.uow.people.create_code(code, CLAIM, member.id, ctx.now, expires)
    await ctx.uow.audit.record(
        ctx.actor, "member.claim_code", ctx.now, member_id=member.id, channel=ctx.channel
    )
    until = format_datetime(expires, ctx.locale, ctx.settings.tz)
    text = ctx.t("customer.claim_code", name=member.name or member.member_code, expires=until)
    return [Reply(text=text), Reply(text=f"/join {code}")]


@contextmanager
def _named_as_typed(query: str) -> Iterator[None]:
    """A member erased while the tag or note was written is not found, as one erased before
    would be: the answer names what the staff member typed, not the member's row id."""
    try:
        yield
    except NotFound:
        text = query.strip()
        raise nobody_found(text, phone_in(text) is not None) from None


async def tag_command(ctx: Context) -> list[Reply]:
    """/tag MEMBER [+tag] [-tag]… (cashier+): add and remove tags; without tags, list them."""
    query, rest = split_member(ctx.args)
    if not query:
        return [ctx.reply("tag.usage")]
    member = await find_member(ctx.uow, query)
    with _named_as_typed(query):
        tagged = await change_tags(
            ctx.uow, member.id, rest.split(), actor=ctx.actor, now=ctx.now, channel=ctx.channel
        )
    shown = ", ".join(tagged.tags) or ctx.t("customer.none")
    return [ctx.reply("tag.done", name=member.name or member.member_code, tags=shown)]


async def note_command(ctx: Context) -> list[Reply]:
    """/note MEMBER text (cashier+): a note on the member, kept with who wrote it and when."""
    query, rest = split_member(ctx.args)
    text = clean_note(rest)
    if not query or not text:
        return [ctx.reply("note.usage")]
    if len(text) > MAX_NOTE:  # before looking the member up, as before
        raise InvalidInput("note.too_long", max=MAX_NOTE, length=len(text))
    member = await find_member(ctx.uow, query)
    with _named_as_typed(query):
        await add_note(
            ctx.uow,
            member.id,
            text,
            staff_id=ctx.staff.id if ctx.staff is not None else None,
            actor=ctx.actor,
            now=ctx.now,
            channel=ctx.channel,
        )
    return [ctx.reply("note.done", name=member.name or member.member_code)]


def register(router: Router) -> None:
    """``/customer``, ``/tag``, ``/note`` and the ``cust:`` buttons, for cashiers and up.

    Slash only (no bare keywords): a customer's message that starts with "note" must still
    reach the inbox, not be refused as a staff command."""
    cashier = Audience.CASHIER
    for name, handler in (
        ("customer", customer_command),
        ("tag", tag_command),
        ("note", note_command),
    ):
        router.command(Command(name, handler, cashier, describe=f"{name}.command"))
    router.action(ACTIONS, on_button, cashier)
