"""The promotion's button (``cmp:<campaign id>``) in chat: the member presses it, the shop
records the click and claims the offer (``shop.campaigns.tracking``), and the reply shows the
coupon, or says why there is none."""

from __future__ import annotations

from typing import Final

from bot.core.ids import row_id
from bot.core.keys import PROMOTION
from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Audience, Router
from shop.campaigns.tracking import Press, press_promotion
from wording.coupons import coupon_reply, describe_conditions, unusable_coupon_reply
from wording.offers import coupon_titles

#: the reply to a press that shows no coupon, by its outcome
NO_COUPON: Final = {
    "not_for_you": "tracking.not_for_you",
    "thanks": "tracking.thanks",
    "offer_ended": "tracking.offer_ended",
}


async def promotion_pressed(ctx: Context) -> list[Reply]:
    """``cmp:<campaign id>`` (members): click, then claim the offer or say thanks."""
    member = ctx.member
    assert member is not None
    campaign_id = row_id(ctx.args)
    if campaign_id is None:
        return [ctx.reply("tracking.not_for_you")]
    press = Press(member.id, ctx.channel, ctx.now, ctx.settings.tz)
    response = await press_promotion(ctx.uow, campaign_id, press, coupon_titles)
    coupon = response.coupon
    if coupon is None:
        return [ctx.reply(NO_COUPON[response.outcome])]
    if (stale := unusable_coupon_reply(coupon, ctx.locale, ctx.settings.tz, ctx.now)) is not None:
        return [stale]  # pressed again after its one coupon was used (or expired)
    shown = await coupon_reply(ctx.uow, coupon, ctx.locale, ctx.settings.tz)
    if coupon.conditions:
        when = describe_conditions(coupon.conditions, ctx.locale)
        text = f"{shown.text}\n{ctx.t('tracking.valid_when', when=when)}"
        shown = Reply(text=text, attachment=shown.attachment)
    return [shown]


def register(router: Router) -> None:
    """The promotion button (members only; the shop re-checks the audience row)."""
    router.action(PROMOTION, promotion_pressed, Audience.MEMBER)
