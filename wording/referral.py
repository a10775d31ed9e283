"""The notices of a paid referral bonus: to the new member and to the friend who invited them."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_points, t
from storage.models import Member


def referral_notices(
    member: Member, referrer: Member, points: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outbox payloads for (the new member, the referrer), each in their own language;
    ``shop.referral.pay_referral_if_first_purchase`` queues them when it pays the bonus."""
    shown = format_points(points)
    to_member = t(member.locale, "invite.paid_referee", points=shown)
    to_referrer = t(referrer.locale, "invite.paid_referrer", name=member.name or "", points=shown)
    return (
        replies_to_payload([Reply(text=to_member)]),
        replies_to_payload([Reply(text=to_referrer)]),
    )
