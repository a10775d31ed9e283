"""/card: the member card — a QR code the cashier scans, the member code, tier and points."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Final

import segno

from bot.core.messages import MemberCardView, Reply
from handlers.context import Context
from handlers.customer.common import tier_label
from shop.loyalty import loyalty_status
from shop.profile import shown_shop_name
from storage.repositories.arrival import MemberLike

#: what the card's QR code carries; staff commands accept it wherever a member is asked for
QR_PREFIX: Final = "CRM:"


def qr_payload(member_code: str) -> str:
    return f"{QR_PREFIX}{member_code}"


@lru_cache(maxsize=1024)
def qr_png(payload: str) -> bytes:
    """A PNG of the QR code, large enough to scan from a phone screen at the counter.

    Kept per payload: a member's card shows the same code every time, and drawing it is most
    of what ``/card`` costs in Python (the bytes are immutable, so sharing them is safe)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


async def card_reply(ctx: Context, member: MemberLike) -> Reply:
    """The card of ``member``; the text repeats the code for channels that show no image."""
    status = await loyalty_status(ctx.uow, member.id, ctx.now, ctx.settings.tz)
    payload = qr_payload(member.member_code)
    tier = tier_label(ctx, status.tier)
    view = MemberCardView(
        name=member.name or "",
        member_code=member.member_code,
        tier=tier,
        points=status.balance,
        qr_payload=payload,
        qr_png=qr_png(payload),
        shop=await shown_shop_name(ctx.uow, ctx.locale, ctx.settings.shop_name),
    )
    text = ctx.t(
        "card.text",
        name=member.name or "",
        code=member.member_code,
        tier=tier,
        points=status.balance,
    )
    return Reply(text=text, card=view)


async def show_card(ctx: Context) -> list[Reply]:
    """/card (members only): the member card."""
    member = ctx.member_view
    assert member is not None
    return [await card_reply(ctx, member)]
