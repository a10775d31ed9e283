"""/profile: what the shop knows about the member, and editing one field at a time (flow ``pf``).

Each edit button (action namespace ``prof``) opens the ``pf`` flow at that field's step; the
answer is validated exactly as in sign-up, written, audited (which field, never its value) and
the updated profile is shown.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import DomainError
from bot.core.messages import Button, InboundKind, Reply
from bot.i18n import format_date, format_phone
from handlers.context import Context
from handlers.customer import fields
from handlers.customer.common import audit, branch_name, gender_label
from shop.erased import hold_member

FLOW: Final = "pf"
EDIT_ACTIONS: Final = "prof"


async def show_profile(ctx: Context) -> list[Reply]:
    """/profile (members only): every personal field, with a button to edit each."""
    member = ctx.member
    assert member is not None
    missing = ctx.t("profile.not_given")
    branch = await ctx.uow.branches.get(member.home_branch_id) if member.home_branch_id else None
    text = ctx.t(
        "profile.summary",
        name=member.name or missing,
        phone=format_phone(shown) if (shown := fields.shown_phone(member)) else missing,
        birthday=format_date(member.birthday, ctx.locale) if member.birthday else missing,
        gender=gender_label(ctx, member.gender),
        branch=branch_name(branch, ctx.locale) if branch else missing,
        language=ctx.t(f"language.name_{member.locale}"),
        marketing=ctx.t(
            "profile.marketing_on" if member.marketing_opt_in else "profile.marketing_off"
        ),
        code=member.member_code,
    )
    buttons = tuple(
        Button(ctx.t(f"profile.edit_{field}"), f"{EDIT_ACTIONS}:{field}") for field in fields.FIELDS
    )
    return [Reply(text=text, buttons=buttons)]


async def start_edit(ctx: Context) -> list[Reply]:
    """An edit button: ask the chosen field (a button is a request; the field is checked)."""
    field = ctx.args
    if field not in fields.FIELDS:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, field)
    return await fields.ask(ctx, FLOW, field)


async def edit_step(ctx: Context) -> list[Reply]:
    """The new value of the field being edited; a refused answer re-asks it."""
    assert ctx.state is not None
    member, field = ctx.member, ctx.state.step
    assert member is not None  # the router ends the flow of someone no longer a member
    if (page := fields.turned_page(ctx, field)) is not None:
        return await fields.ask(ctx, FLOW, field, page)
    try:
        value = await fields.read(ctx, field)
    except DomainError as error:
        return [Reply(text=ctx.t(error.key, **error.params)), *await fields.ask(ctx, FLOW, field)]
    await hold_member(ctx.uow, member.id)  # an erasure meanwhile: no field comes back
    if field == "phone":
        await fields.place_phone(ctx, member, str(value))
        shared = ctx.inbound.kind is InboundKind.CONTACT and ctx.inbound.contact_is_own
        if shared and member.phone == value:
            member.phone_verified = True  # the platform vouches for the person's own number
    else:
        fields.apply(member, field, value)
    await audit(ctx, "member.profile_changed", member.id, field=field)
    ctx.finish()
    return [ctx.reply("profile.saved"), *await show_profile(ctx)]
