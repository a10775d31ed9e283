"""Joining: follow or /start → welcome and PDPA notice → sign-up flow ``su`` → member card.

Steps: membership consent → marketing consent (separate, optional) → name → phone → birthday →
gender → home branch (skipped when the shop has no branches) → the member row is written, all
in the event that answers the last step. Nothing is stored before that, so a person who stops
half-way leaves only their chat identity behind.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Final

from bot.core.errors import DomainError
from bot.core.messages import Button, InboundKind, Reply
from handlers.context import Context
from handlers.customer import claim, fields
from handlers.customer.card import card_reply
from handlers.customer.common import audit, join_button, main_menu
from shop.loyalty import load_rules
from shop.profile import shown_shop_name
from storage.errors import ConstraintViolation
from storage.models import Member
from storage.repositories.arrival import MemberLike

FLOW: Final = "su"
#: a person may leave the sign-up and come back later the same day
SIGNUP_TTL: Final = timedelta(hours=24)
#: versions of the PDPA texts shown (``signup.membership_notice``, ``signup.marketing_notice``);
#: change them whenever the wording changes, so every consent row says what was agreed to
MEMBERSHIP_WORDING: Final = "membership-v1"
MARKETING_WORDING: Final = "marketing-v1"

_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_REFERRAL: Final = re.compile(r"ref_([A-Za-z0-9]{4,16})")
_BRANCH: Final = re.compile(r"br_([A-Za-z0-9_-]{1,32})")
_CAMPAIGN: Final = re.compile(r"cmp_([0-9]{1,20})")


def parse_start_payload(payload: str) -> dict[str, str]:
    """Where a deep link says the person came from: ``{"ref": CODE}`` or ``{"source": ...}``.

    Telegram deep-link payloads are at most 64 characters of ``[A-Za-z0-9_-]``; anything else,
    or an unknown prefix, is a plain start.
    """
    payload = payload.strip()
    if not _PAYLOAD.fullmatch(payload):
        return {}
    if match := _REFERRAL.fullmatch(payload):
        return {"ref": match.group(1).upper()}
    if match := _BRANCH.fullmatch(payload):
        return {"source": f"branch:{match.group(1).lower()}"}
    if match := _CAMPAIGN.fullmatch(payload):
        return {"source": f"campaign:{match.group(1)}"}
    return {}


async def start(ctx: Context) -> list[Reply]:
    """/start [payload]: the main menu for a member, the welcome and PDPA notice for anyone else."""
    if (member := ctx.member_view) is not None:
        return [_greeting(ctx, member)]
    return await begin_signup(ctx, parse_start_payload(ctx.args))


async def on_follow(ctx: Context) -> list[Reply]:
    """Added or unblocked the bot: the same as a plain /start."""
    if (member := ctx.member_view) is not None:
        return [_greeting(ctx, member)]
    keep: dict[str, Any] = {}
    if ctx.state is not None and ctx.state.flow == FLOW:
        keep = {k: v for k, v in ctx.state.data.items() if k in ("ref", "source")}
    return await begin_signup(ctx, keep)


def _greeting(ctx: Context, member: MemberLike) -> Reply:
    return Reply(text=ctx.t("menu.greeting", name=member.name or ""), buttons=main_menu(ctx))


async def begin_signup(ctx: Context, origin: dict[str, Any]) -> list[Reply]:
    """Start the sign-up from its first step; ``origin`` seeds the flow data (``ref``,
    ``source``, a claim)."""
    ctx.begin(FLOW, "consent", origin, ttl=SIGNUP_TTL)
    shop = await shown_shop_name(ctx.uow, ctx.locale, ctx.settings.shop_name)
    return [ctx.reply("signup.welcome", shop=shop), _membership_notice(ctx)]


def _membership_notice(ctx: Context) -> Reply:
    return ctx.reply(
        "signup.membership_notice",
        Button(ctx.t("signup.accept"), f"{FLOW}:join"),
        Button(ctx.t("signup.not_now"), f"{FLOW}:later"),
        version=MEMBERSHIP_WORDING,
    )


def _marketing_notice(ctx: Context) -> Reply:
    return ctx.reply(
        "signup.marketing_notice",
        Button(ctx.t("signup.marketing_yes"), f"{FLOW}:mkt:yes"),
        Button(ctx.t("signup.marketing_no"), f"{FLOW}:mkt:no"),
        version=MARKETING_WORDING,
    )


async def signup_step(ctx: Context) -> list[Reply]:
    """One answer in the ``su`` flow; a refused answer re-asks the same step."""
    assert ctx.state is not None
    if (member := ctx.member_view) is not None:  # joined meanwhile (another device)
        ctx.finish()  # nothing left to ask
        return [_greeting(ctx, member)]
    step = ctx.state.step
    if step == "consent":
        return _on_consent(ctx)
    if step == "marketing":
        return await _on_marketing(ctx)
    if (page := fields.turned_page(ctx, step)) is not None:
        return await fields.ask(ctx, FLOW, step, page)
    try:
        value = await _read(ctx, step)
    except DomainError as error:
        return [Reply(text=ctx.t(error.key, **error.params)), *await fields.ask(ctx, FLOW, step)]
    typed_phone = step == "phone" and ctx.inbound.kind is InboundKind.TEXT
    ctx.goto(step, **{step: value})
    replies = await _next(ctx, step)
    if typed_phone:  # the same words for every typed number: whose it is stays unsaid
        return [ctx.reply("signup.phone_noted"), *replies]
    return replies


async def _read(ctx: Context, step: str) -> fields.FieldValue:
    """The step's answer. A typed phone number is only checked for its form here, never looked
    up: a stranger must not learn whether a number belongs to a member (the owner is pointed to
    the proofs, and a taken number is kept unlinked when the sign-up completes, in
    ``_add_member``)."""
    if step != "phone":
        return await fields.read(ctx, step)
    phone = await claim.read_phone(ctx)  # the person's own number, shared: may claim
    if phone is not None:
        return phone
    if ctx.inbound.kind is InboundKind.TEXT:
        return fields.typed_phone(ctx)
    return await fields.read(ctx, step)


async def reask(ctx: Context) -> list[Reply]:
    """The current step's question again (after a code was sent mid-way); a field the claimed
    member already has is skipped."""
    assert ctx.state is not None
    step = ctx.state.step
    if step == "consent":
        return [_membership_notice(ctx)]
    if step == "marketing":
        return [_marketing_notice(ctx)]
    if await _skip(ctx, step):
        return await _next(ctx, step)
    return await fields.ask(ctx, FLOW, step)


async def _skip(ctx: Context, step: str) -> bool:
    """Whether ``step`` needs no question: answered already, no branches, or known to the shop
    for the imported member being claimed."""
    assert ctx.state is not None
    if step in ctx.state.data:
        return True
    if step == "branch" and not await ctx.open_branches():
        return True
    claimed = await claim.claimed_member(ctx)
    return claimed is not None and step in claim.known_fields(claimed)


def _on_consent(ctx: Context) -> list[Reply]:
    if ctx.args == "join":
        ctx.goto("marketing", membership_at=ctx.now.isoformat())
        return [_marketing_notice(ctx)]
    if ctx.args == "later":
        ctx.finish()
        return [ctx.reply("signup.later", join_button(ctx))]
    return [_membership_notice(ctx)]


async def _on_marketing(ctx: Context) -> list[Reply]:
    if ctx.args in ("mkt:yes", "mkt:no"):
        ctx.goto("name", marketing=ctx.args == "mkt:yes", marketing_at=ctx.now.isoformat())
        return await reask(ctx)  # the name, unless a claimed member already has one
    return [_marketing_notice(ctx)]


async def _next(ctx: Context, answered: str) -> list[Reply]:
    """Ask the step after ``answered``, or join when every step is done."""
    assert ctx.state is not None
    remaining = fields.FIELDS[fields.FIELDS.index(answered) + 1 :]
    for step in remaining:
        if await _skip(ctx, step):
            continue
        ctx.goto(step)
        return await fields.ask(ctx, FLOW, step)
    return await _join(ctx)


async def _join(ctx: Context) -> list[Reply]:
    """Write the member, link this chat account, record both consents and the welcome points."""
    assert ctx.state is not None
    data = ctx.state.data
    rules = await load_rules(ctx.uow)
    if claim.CLAIM_ID in data:
        try:
            async with ctx.uow.savepoint():
                member = await claim.take_over(ctx, data)
        except DomainError as error:  # claimed by someone else, or the code ran out meanwhile
            ctx.finish()
            return [Reply(text=ctx.t(error.key, **error.params), buttons=(join_button(ctx),))]
        await _link(ctx, member)
        return await _welcome(ctx, member, rules.welcome_points, new=False)
    member = await _add_member(ctx, data)
    return await _welcome(ctx, member, rules.welcome_points, new=True)


async def _add_member(ctx: Context, data: dict[str, Any]) -> Member:
    """Insert the member the sign-up describes, with its number (as ``fields.place_phone``),
    linked to this chat account, with both consents.

    A number another member holds is not refused: that would tell a stranger whose number it
    is. The member is added with the number unlinked and the duplicate flagged for staff, and
    answered like everyone else. The common case is one statement on PostgreSQL (the number's
    holder decided inside it); a drawn code that is taken, or a sign-up with this number
    committed while this one ran, takes the careful way (:func:`_add_carefully`).
    """
    phone = str(data["phone"])
    referrer = await _referrer_code(ctx, data.get("ref"))
    new = _new_member(ctx, data, referrer, linked=True)
    held = await ctx.uow.identities.join(ctx.identity, new, _consents(ctx, data))
    if held is None:
        member = await _add_carefully(ctx, data, referrer)
        await _link(ctx, member)
        return member
    if held:
        holder = await ctx.uow.members.by_phone(phone)
        other = holder.id if holder is not None else None
        await audit(ctx, "member.phone_duplicate", new.id, other_member_id=other)
    return new


async def _add_carefully(ctx: Context, data: dict[str, Any], referrer: str | None) -> Member:
    """The member written after reading the number's holder, in a savepoint: the loser of two
    sign-ups racing with one number (the unique phone refuses its insert, which is undone and
    made again unlinked) joins too."""
    phone = str(data["phone"])
    holder = await ctx.uow.members.by_phone(phone)
    try:
        async with ctx.uow.savepoint():
            new = _new_member(ctx, data, referrer, linked=holder is None)
            member = await ctx.uow.members.add(new)
    except ConstraintViolation:  # a sign-up with this number committed while this one ran
        holder = await ctx.uow.members.by_phone(phone)  # the winner's row is visible now
        if holder is None:
            raise
        member = await ctx.uow.members.add(_new_member(ctx, data, referrer, linked=False))
    if holder is not None:
        await audit(ctx, "member.phone_duplicate", member.id, other_member_id=holder.id)
    return member


def _new_member(ctx: Context, data: dict[str, Any], referrer: str | None, linked: bool) -> Member:
    phone = str(data["phone"])
    return Member(
        name=str(data["name"]),
        phone=phone if linked else None,
        phone_unlinked=None if linked else phone,
        birthday=date.fromisoformat(str(data["birthday"])),
        gender=data.get("gender"),
        home_branch_id=data.get("branch"),
        locale=ctx.locale,
        joined_at=ctx.now,
        referred_by_code=referrer,
        signup_source=data.get("source"),
        marketing_opt_in=bool(data.get("marketing")),
        erased_at=None,
        points_balance=0,
        tier=None,
        tier_since=None,
        phone_verified=linked and data.get(claim.PHONE_VERIFIED) == phone,
    )


def _consents(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Both consents of the sign-up: membership (given) and marketing (given or refused),
    each at the time of its step, with the wording shown."""
    shown = (
        ("membership", True, MEMBERSHIP_WORDING, "membership_at"),
        ("marketing", bool(data.get("marketing")), MARKETING_WORDING, "marketing_at"),
    )
    return [
        {
            "purpose": purpose,
            "granted": granted,
            "wording_version": wording,
            "channel": ctx.channel,
            "recorded_at": _at(data, at, ctx.now),
        }
        for purpose, granted, wording, at in shown
    ]


async def _link(ctx: Context, member: Member) -> None:
    """Link this chat account to ``member`` and record both consents (a claimed member, or
    one written the careful way)."""
    assert ctx.state is not None
    ctx.identity.member_id = member.id
    for consent in _consents(ctx, ctx.state.data):
        await ctx.uow.members.record_consent(
            member.id,
            consent["purpose"],
            consent["granted"],
            consent["wording_version"],
            consent["channel"],
            consent["recorded_at"],
        )


async def _welcome(ctx: Context, member: Member, welcome_points: int, *, new: bool) -> list[Reply]:
    """The welcome points of the member (new or claimed) this chat account joined, the audit
    row; end the flow and show the card."""
    assert ctx.state is not None
    data = ctx.state.data
    uow, now = ctx.uow, ctx.now
    ctx.member = member
    if welcome_points > 0:  # once per member, also for an imported member claimed later
        key = f"welcome:{member.id}"
        if new:  # written in this transaction: nobody can have used its key
            await uow.points.append_new(
                member.id, welcome_points, "welcome", now, idempotency_key=key
            )
        else:
            await uow.points.append(member.id, welcome_points, "welcome", now, idempotency_key=key)
    await audit(
        ctx,
        "member.joined",
        member.id,
        source=data.get("source"),
        referred="ref" in data,
        claimed=data.get(claim.CLAIM_VIA),
    )
    ctx.finish()
    welcome = ctx.reply("signup.done", name=member.name or "", points=welcome_points)
    card = await card_reply(ctx, member)
    return [welcome, Reply(text=card.text, card=card.card, buttons=main_menu(ctx))]


async def _referrer_code(ctx: Context, code: Any) -> str | None:
    """Keep a referral only when it names a current member (the loyalty rules reward it)."""
    if not code:
        return None
    referrer = await ctx.uow.members.by_code(str(code))
    if referrer is None or referrer.erased_at is not None:
        return None
    return referrer.member_code


def _at(data: dict[str, Any], key: str, default: datetime) -> datetime:
    """When a consent was given (the step's time, not the end of the sign-up)."""
    value = data.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else default
