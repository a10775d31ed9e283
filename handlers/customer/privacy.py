"""PDPA rights in chat: /stop and /resume (marketing consent only), /deleteme (erasure).

Consents are append-only: /stop and /resume each add a row with the wording version, so the
history of what the member agreed to, and when, is never rewritten.
"""

from __future__ import annotations

from typing import Final

from bot.core.keys import FORGET_FILES_META, card_filename
from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.customer.common import audit
from handlers.customer.export import EXPORT_FILENAME
from handlers.customer.signup import MARKETING_WORDING, MEMBERSHIP_WORDING
from shop.campaigns.contact_events import ContactKind, record_contact_event
from shop.erased import hold_member
from shop.withdrawal import withdraw_promotions

DELETE_FLOW: Final = "del"


async def stop_marketing(ctx: Context) -> list[Reply]:
    """/stop (members only): no more promotions, not even those already queued; receipts and
    points messages still come."""
    return await _set_marketing(ctx, granted=False)


async def resume_marketing(ctx: Context) -> list[Reply]:
    """/resume (members only): promotions again, recorded as a fresh marketing consent."""
    return await _set_marketing(ctx, granted=True)


async def _set_marketing(ctx: Context, granted: bool) -> list[Reply]:
    member = ctx.member
    assert member is not None
    await hold_member(ctx.uow, member.id)  # erased meanwhile: no consent comes back
    await ctx.uow.members.record_consent(
        member.id, "marketing", granted, MARKETING_WORDING, ctx.channel, ctx.now
    )
    if member.marketing_opt_in != granted:  # a repeated /stop is not a new event
        kind: ContactKind = "resumed" if granted else "stopped"
        await record_contact_event(ctx.uow, member.id, ctx.channel, kind, ctx.now)
    member.marketing_opt_in = granted
    if not granted:  # again on a repeated /stop: a launch may have queued one meanwhile
        await withdraw_promotions(ctx.uow, member.id, ctx.now)
    await audit(ctx, "consent.marketing_" + ("granted" if granted else "withdrawn"), member.id)
    return [ctx.reply("privacy.resumed" if granted else "privacy.stopped")]


async def ask_delete(ctx: Context) -> list[Reply]:
    """/deleteme (anyone): asks for confirmation; nothing is erased yet. A member erases their
    membership; someone who never joined erases what they wrote to the shop and their chat
    name (the inbox keeps free text, which may hold a phone number)."""
    if _staff_only(ctx):
        return [ctx.reply("privacy.staff_account")]
    ctx.begin(DELETE_FLOW, "confirm")
    return [_confirmation(ctx)]


def _staff_only(ctx: Context) -> bool:
    """A staff account that is no member: what is queued to it (alerts about customers) and
    what it did are the shop's work, not its owner's personal data; the owner removes it from
    staff first, then /deleteme erases it as anyone's."""
    return ctx.member is None and ctx.staff_view is not None


def _confirmation(ctx: Context) -> Reply:
    guest = "" if ctx.member is not None else "_guest"
    return ctx.reply(
        f"privacy.delete_confirm{guest}",
        Button(ctx.t("privacy.delete_yes"), f"{DELETE_FLOW}:yes"),
        Button(ctx.t(f"privacy.delete_no{guest}"), f"{DELETE_FLOW}:no"),
    )


async def delete_step(ctx: Context) -> list[Reply]:
    """The answer to the erasure question: ``del:yes`` erases, ``del:no`` keeps everything."""
    if ctx.args == "no":
        ctx.finish()
        return [ctx.reply("privacy.delete_kept" if ctx.member else "privacy.delete_kept_guest")]
    if ctx.args != "yes":
        return [_confirmation(ctx)]
    ctx.finish()
    member = ctx.member
    if _staff_only(ctx):  # made staff while the question was open
        return [ctx.reply("privacy.staff_account")]
    if member is None:
        await ctx.uow.erasure.erase_account(ctx.identity)
        await audit(ctx, "account.erased", None)
        return [ctx.reply("privacy.deleted_guest")]
    await ctx.uow.members.record_consent(
        member.id, "membership", False, MEMBERSHIP_WORDING, ctx.channel, ctx.now
    )
    await ctx.uow.members.record_consent(
        member.id, "marketing", False, MARKETING_WORDING, ctx.channel, ctx.now
    )
    await withdraw_promotions(ctx.uow, member.id, ctx.now)  # their campaigns can finish
    await ctx.uow.erasure.erase_member(member, ctx.now)
    await audit(ctx, "member.erased", member.id)
    ctx.member = None
    done = ctx.reply("privacy.deleted")
    # files an adapter saved for them (the console's media folder) go too
    done.meta[FORGET_FILES_META] = f"{card_filename(member.member_code)} {EXPORT_FILENAME}"
    return [done]
