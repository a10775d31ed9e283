"""The member fields a person types or picks in chat, shared by sign-up (``su``) and profile
editing (``pf``): how each step is asked, and how the answer is read and validated.

A step's buttons use the flow's name as their namespace (``su:g:female``, ``pf:b:3``), as the
router requires. Reading never writes anything: a refused answer leaves no trace, and the flow
re-asks the same step.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from bot.core.capabilities import capabilities_of
from bot.core.errors import Conflict, InvalidInput
from bot.core.graphemes import fit
from bot.core.ids import row_id
from bot.core.messages import Button, ButtonKind, InboundKind, Reply
from handlers.branch_pages import branch_page, page_number
from handlers.context import Context
from handlers.customer.common import GENDERS, audit, branch_name
from shop.inputs import clean_name, parse_birthday, parse_phone
from storage.errors import ConstraintViolation
from storage.models import Member

#: a field's stored value in flow data: JSON-friendly (birthday as an ISO date)
FieldValue = str | int | None

FIELDS: Final = ("name", "phone", "birthday", "gender", "branch")
SKIP: Final = "skip"
#: the branch question's page button (``pf:bp:2``); its branch buttons are ``pf:b:<id>``
PAGE_VERB: Final = "bp"
#: LINE quick-reply labels hold 20 characters; longer display names are shortened on the button
MAX_LABEL_NAME: Final = 16


def _short(name: str) -> str:
    return fit(name, MAX_LABEL_NAME)


async def ask(ctx: Context, flow: str, step: str, page: int = 0) -> list[Reply]:
    """The question of ``step``, with its buttons (the branches a page at a time: ``page``)."""
    if step == "name":
        buttons: list[Button] = []
        shown = ctx.identity_view.display_name
        if shown and shown.strip():
            label = ctx.t("signup.use_display_name", name=_short(shown.strip()))
            buttons.append(Button(label=label, action=f"{flow}:dn"))
        return [Reply(text=ctx.t("signup.ask_name"), buttons=tuple(buttons))]
    if step == "phone":
        if not capabilities_of(ctx.inbound.identity.channel).shares_contact:
            return [ctx.reply("signup.ask_phone_typed")]  # no button to speak of (LINE)
        share = Button(label=ctx.t("signup.share_phone"), kind=ButtonKind.SHARE_CONTACT)
        return [Reply(text=ctx.t("signup.ask_phone"), buttons=(share,))]
    if step == "birthday":
        return [ctx.reply("signup.ask_birthday")]
    if step == "gender":
        choices = [Button(ctx.t(f"signup.gender_{g}"), f"{flow}:g:{g}") for g in GENDERS]
        choices.append(Button(ctx.t("signup.skip"), f"{flow}:g:{SKIP}"))
        return [Reply(text=ctx.t("signup.ask_gender"), buttons=tuple(choices))]
    if step == "branch":
        branches = await ctx.open_branches()
        picks = [Button(branch_name(b, ctx.locale), f"{flow}:b:{b.id}") for b in branches]
        listed = branch_page(ctx, picks, page, lambda n: f"{flow}:{PAGE_VERB}:{n}")
        skip = Button(ctx.t("signup.skip"), f"{flow}:b:{SKIP}")
        text = "\n".join(filter(None, (ctx.t("signup.ask_branch"), listed.note)))
        return [Reply(text=text, buttons=(*listed.buttons, skip))]
    raise ValueError(f"unknown field step {step!r}")


def turned_page(ctx: Context, step: str) -> int | None:
    """The page of branches asked for when the current event is a press of the branch
    question's page button, else None (the event is an answer to read)."""
    head, _, value = ctx.args.partition(":")
    if step != "branch" or ctx.inbound.kind is not InboundKind.ACTION or head != PAGE_VERB:
        return None
    return page_number(value)


def _choice(ctx: Context, prefix: str) -> str:
    """The value of a pressed ``<prefix>:<value>`` button, or InvalidInput for anything else."""
    head, _, value = ctx.args.partition(":")
    if ctx.inbound.kind is not InboundKind.ACTION or head != prefix or not value:
        raise InvalidInput("signup.use_buttons")
    return value


async def read(ctx: Context, step: str) -> FieldValue:
    """The answer to ``step`` carried by the current event, validated.

    Raises a :class:`DomainError` (InvalidInput) whose key explains what to send instead. A
    phone number is checked for its form only (``place_phone`` stores it).
    """
    inbound = ctx.inbound
    if step == "name":
        if inbound.kind is InboundKind.ACTION and ctx.args == "dn":
            return clean_name(ctx.identity_view.display_name or "")
        return clean_name(_typed(ctx))
    if step == "phone":
        if inbound.kind is InboundKind.CONTACT:
            if not inbound.contact_is_own:
                raise InvalidInput("signup.contact_not_own")
            phone = parse_phone(inbound.contact_phone or "")
        else:
            phone = parse_phone(_typed(ctx))
        return phone  # whose number it is stays unsaid: see ``place_phone``
    if step == "birthday":
        today = ctx.now.astimezone(ctx.settings.tz).date()
        return parse_birthday(_typed(ctx), today).isoformat()
    if step == "gender":
        gender = _choice(ctx, "g")
        if gender == SKIP:
            return None
        if gender not in GENDERS:
            raise InvalidInput("signup.use_buttons")
        return gender
    if step == "branch":
        picked = _choice(ctx, "b")
        if picked == SKIP:
            return None
        return await _open_branch(ctx, picked)
    raise ValueError(f"unknown field step {step!r}")


async def _open_branch(ctx: Context, picked: str) -> int:
    """The id of the open branch a branch button names. A branch closed since the question
    was sent is named as no longer available (the question is asked again, open ones only)."""
    branch_id = row_id(picked)
    if branch_id is not None and branch_id in {b.id for b in await ctx.open_branches()}:
        return branch_id
    closed = None if branch_id is None else await ctx.uow.branches.get(branch_id)
    if closed is not None:
        raise InvalidInput("signup.branch_closed", branch=branch_name(closed, ctx.locale))
    raise InvalidInput("signup.use_buttons")


def typed_phone(ctx: Context) -> str:
    """The typed phone number of the current event in E.164, checked for its form only (the
    sign-up does not say whether a typed number is taken: see ``signup._read``)."""
    return parse_phone(_typed(ctx))


def _typed(ctx: Context) -> str:
    if ctx.inbound.kind is not InboundKind.TEXT:
        raise InvalidInput("signup.type_answer")
    return ctx.inbound.text


async def place_phone(ctx: Context, member: Member, phone: str) -> None:
    """Make ``phone`` the number of ``member`` (already stored: it has an id).

    When another member holds the number, it is kept unlinked: the member sees it as theirs,
    nobody is found by it (``/sale``, claims), and staff find the duplicate flagged on the
    member's card and in the audit log (``member.phone_duplicate``). The person is answered
    exactly as for a free number, so a stranger cannot learn whose number it is, and gets
    nothing of the other member's account. A new number is not a verified one.
    """
    holder = await ctx.uow.members.by_phone(phone)
    if member.phone != phone:
        member.phone_verified = False
    if holder is not None and holder.id != member.id:
        await _keep_unlinked(ctx, member, phone, holder.id)
        return
    try:
        async with ctx.uow.savepoint():
            member.phone, member.phone_unlinked = phone, None
            await ctx.uow.flush()
    except ConstraintViolation:  # another member took the free number while this one ran
        await ctx.uow.members.reload(member)  # the savepoint's undo left it unread
        other = await ctx.uow.members.phone_holder(phone)  # the winner's row is visible now
        if other is None:
            raise
        await _keep_unlinked(ctx, member, phone, other)


async def _keep_unlinked(ctx: Context, member: Member, phone: str, holder_id: int) -> None:
    member.phone, member.phone_unlinked = None, phone
    await audit(ctx, "member.phone_duplicate", member.id, other_member_id=holder_id)


def shown_phone(member: Member) -> str | None:
    """The number the member gave, linked or not (what they see as theirs)."""
    return member.phone or member.phone_unlinked


async def ensure_phone_free(ctx: Context, phone: str) -> None:
    """Refuse a number that already belongs to someone else (linking comes in a later issue)."""
    owner = await ctx.uow.members.by_phone(phone)
    member = ctx.member_view
    if owner is not None and (member is None or owner.id != member.id):
        raise Conflict("signup.phone_taken")


def apply(member: Member, step: str, value: FieldValue) -> None:
    """Write one validated answer onto ``member``."""
    if step == "name":
        member.name = str(value)
    elif step == "birthday":
        member.birthday = None if value is None else date.fromisoformat(str(value))
    elif step == "gender":
        member.gender = None if value is None else str(value)
    elif step == "branch":
        member.home_branch_id = None if value is None else int(value)
    else:
        raise ValueError(f"unknown field step {step!r}")
