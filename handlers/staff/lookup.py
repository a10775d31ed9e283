"""Finding the member a cashier means: a phone in any Thai format, a member code, or the
payload of the member-card QR (``CRM:<code>``)."""

from __future__ import annotations

import re
from typing import Final

from bot.core.errors import InvalidInput, NotAllowed, NotFound
from shop.inputs import parse_phone
from storage.models import Member
from storage.repositories.members import CODE_ALPHABET, CODE_LENGTH
from storage.uow import UnitOfWork

QR_PREFIX: Final = "CRM:"
_CODE: Final = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def member_code_in(text: str) -> str | None:
    """The member code in ``text`` (a bare code or a card-QR payload), if it is one."""
    candidate = text.strip().upper().removeprefix(QR_PREFIX)
    return candidate if _CODE.fullmatch(candidate) else None


def phone_in(text: str) -> str | None:
    """The phone number ``text`` is (E.164), if it is one."""
    try:
        return parse_phone(text)
    except InvalidInput:
        return None


async def find_member(uow: UnitOfWork, text: str) -> Member:
    """The (not erased) member ``text`` names: by member code, else by phone; raises
    :class:`NotFound` naming what was typed."""
    text = text.strip()
    member: Member | None = None
    code = member_code_in(text)
    if code is not None:
        member = await uow.members.by_code(code)
    if member is None:
        phone = phone_in(text)
        if phone is not None:
            member = await uow.members.by_phone(phone)
    if member is None or member.erased_at is not None:
        raise nobody_found(text, phone_in(text) is not None)
    return member


def nobody_found(text: str, typed_a_phone: bool) -> NotFound:
    """The answer when no member is found for ``text``: a well-formed phone number is said to
    belong to no member yet, with how a customer joins (asking for "a phone number" instead
    would send staff to retype what they typed); anything else is asked again."""
    key = "error.no_member_with_phone" if typed_a_phone else "error.member_not_found"
    return NotFound(key, query=text[:40])


def refuse_own_membership(role: str, own_member_id: int | None, member_id: int, key: str) -> None:
    """Raises :class:`NotAllowed` (``key``) when a cashier or manager names the membership of
    their own chat account (``own_member_id``; every account linked to it shares it).

    Otherwise a cashier could sell to themselves, spend the points on a reward and void the
    sale: the points are written off and the reward kept. An owner is not refused: it is their
    own shop, so points they give themselves cost no one but them (and they set the rewards)."""
    if role != "owner" and own_member_id is not None and own_member_id == member_id:
        raise NotAllowed(key)
