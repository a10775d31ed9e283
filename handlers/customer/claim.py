"""Taking over an imported member at sign-up.

Members imported from a POS file have no chat account. A person becomes that member only with
proof: their OWN phone shared through the platform (Telegram's contact button, verified by
Telegram) or a claim code the shop's staff handed them (``/join CODE``). A typed phone number is
never enough — anyone can type anyone's number — and is not even looked up at the phone step:
every typed number gets the same answer, with a pointer to those two ways, so a stranger cannot
learn whose number it is; nor does completing the sign-up (a taken one is kept unlinked:
``fields.place_phone``).

The claim travels in the sign-up flow's data (``claim`` = member id, ``claim_via``, and for a
code its hash); consents are asked as for everyone, only the fields the shop does not already
know are asked, and the code is spent when the sign-up completes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from bot.core.errors import Conflict, InvalidInput
from bot.core.messages import InboundKind
from handlers.context import Context
from handlers.customer.fields import ensure_phone_free
from shop.inputs import parse_phone
from shop.referral import valid_referrer
from storage.models import Member
from storage.repositories.people import CLAIM

#: flow-data keys of a claim in progress
CLAIM_ID: Final = "claim"
CLAIM_VIA: Final = "claim_via"
CLAIM_CODE: Final = "claim_code"
#: the phone number the platform vouched for (the person's own contact share)
PHONE_VERIFIED: Final = "phone_verified"


async def claimed_member(ctx: Context) -> Member | None:
    """The imported member this sign-up is taking over, if any."""
    if ctx.state is None or CLAIM_ID not in ctx.state.data:
        return None
    return await ctx.uow.members.get(int(ctx.state.data[CLAIM_ID]))


def known_fields(member: Member) -> set[str]:
    """The sign-up fields the shop already has for ``member`` (they are not asked again)."""
    values = {
        "name": member.name,
        "phone": member.phone,
        "birthday": member.birthday,
        "gender": member.gender,
        "branch": member.home_branch_id,
    }
    return {step for step, value in values.items() if value is not None}


async def read_phone(ctx: Context) -> str | None:
    """The answer to the phone step when the person shared their own number and it is an
    imported member's, else None.

    Own contact matching an unclaimed imported member: the claim is recorded in the flow data
    and the (verified) phone returned. A typed number is not looked up (it proves nothing, and
    the answer must not say whose it is); anything else is left to the ordinary phone step.
    """
    assert ctx.state is not None
    if CLAIM_ID in ctx.state.data:
        return None
    inbound = ctx.inbound
    raw = inbound.contact_phone
    if inbound.kind is not InboundKind.CONTACT or not inbound.contact_is_own or not raw:
        return None
    try:
        phone = parse_phone(raw)
    except InvalidInput:
        return None  # the ordinary step explains what a phone number looks like
    imported = await ctx.uow.people.imported_by_phone(phone)
    if imported is None:  # remembered as the number itself: a later typed one is not verified
        ctx.state.data[PHONE_VERIFIED] = phone
        return None
    ctx.state.data.update({CLAIM_ID: imported.id, CLAIM_VIA: "contact", PHONE_VERIFIED: phone})
    ctx.state_changed = True
    return phone


async def take_over(ctx: Context, data: dict[str, Any]) -> Member:
    """Make the claimed member this person's membership (the caller links the chat account):
    spend the claim code, fill the fields the shop did not know, set language, marketing
    choice and referral. Raises ``Conflict("claim.gone")`` when the member can no longer be
    claimed (erased, claimed meanwhile, code used or expired); nothing is written then.
    """
    uow, now = ctx.uow, ctx.now
    member = await uow.members.get(int(data[CLAIM_ID]))
    if member is None or member.erased_at is not None:
        raise Conflict("claim.gone")
    new_phone = str(data["phone"]) if member.phone is None and data.get("phone") else None
    if new_phone is not None:
        await ensure_phone_free(ctx, new_phone)
    if data.get(CLAIM_VIA) == "contact":
        if await uow.people.has_identity(member.id):
            raise Conflict("claim.gone")
    else:
        if await uow.people.identity_on(member.id, ctx.channel) is not None:
            raise Conflict("claim.gone")
        if await uow.people.use_code(str(data.get(CLAIM_CODE)), CLAIM, now) != member.id:
            raise Conflict("claim.gone")
    _fill(member, data)
    if new_phone is not None:
        member.phone = new_phone
    if data.get(PHONE_VERIFIED) == member.phone:
        member.phone_verified = True
    member.locale = ctx.locale
    member.marketing_opt_in = bool(data.get("marketing"))
    if member.referred_by_code is None:
        referrer = await valid_referrer(uow, data.get("ref"), member.member_code)
        member.referred_by_code = None if referrer is None else referrer.member_code
    member.signup_source = member.signup_source or data.get("source") or "claim"
    return member


def _fill(member: Member, data: dict[str, Any]) -> None:
    if member.name is None and data.get("name"):
        member.name = str(data["name"])
    if member.birthday is None and data.get("birthday"):
        member.birthday = date.fromisoformat(str(data["birthday"]))
    if member.gender is None and data.get("gender"):
        member.gender = str(data["gender"])
    if member.home_branch_id is None and data.get("branch"):
        member.home_branch_id = int(data["branch"])
