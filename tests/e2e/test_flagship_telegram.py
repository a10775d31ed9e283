"""SPEC §2's flagship scenario on Telegram, through the real web app and the fake Bot API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from shop.campaigns.stats import compute_stats
from simulator.fakes.telegram_updates import callback_update, text_update
from storage.models import Campaign, Coupon
from tests.e2e import flagship_support as shop
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_staff

OWNER, CASHIER = 900, 901


class Script:
    def __init__(self, world: TelegramWorld) -> None:
        self.world = world
        self.update_id = 10_000

    async def say(self, user_id: int, text: str) -> str:
        self.update_id += 1
        before = len(self.world.fake.sent(user_id))
        assert await self.world.post(text_update(self.update_id, user_id, text)) == 200
        return "\n".join(c.text for c in self.world.fake.sent(user_id)[before:])

    async def press(self, user_id: int, data: str) -> str:
        self.update_id += 1
        before = len(self.world.fake.sent(user_id))
        assert await self.world.post(callback_update(self.update_id, user_id, data)) == 200
        return "\n".join(c.text for c in self.world.fake.sent(user_id)[before:])


async def test_flagship_campaign_on_telegram(app: App, clock: FrozenClock) -> None:
    members = await shop.build_shop(app, Channel.TELEGRAM, [str(5000 + n) for n in range(30)])
    await make_staff(app, str(OWNER), "owner")
    await make_staff(app, str(CASHIER), "cashier", branch_code="asoke")
    async with telegram_world(app) as world:
        s = Script(world)
        assert "tea5" in await s.say(OWNER, shop.SEGMENT_COMMAND)
        await s.say(OWNER, "/campaign new Weekday afternoons")
        await s.say(OWNER, "tea5")
        await s.say(OWNER, shop.MESSAGE)
        await s.press(OWNER, "cmpw:offer:buy_x_get_y")
        for answer in shop.OFFER_ANSWERS:
            await s.say(OWNER, answer)
        await s.say(OWNER, "-")
        await s.press(OWNER, "cmpw:when:now")
        await s.say(OWNER, "10")
        async with app.uow() as uow:
            campaign_id = (await uow.session.execute(select(Campaign.id))).scalar_one()
        recipients, holdout = shop.split(campaign_id, members)

        preview = await s.say(OWNER, f"/campaign preview {campaign_id}")
        assert f"จะส่งถึง: {len(recipients)} คน" in preview
        assert f"กลุ่มเทียบ (10%): {len(holdout)} คน" in preview
        assert "LINE: 0 ข้อความ" in preview
        assert f"คุณ{recipients[0].name} รับซื้อ 1 แถม 1" in preview

        await s.press(OWNER, f"cmpa:send:{campaign_id}")
        dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: world.channel})
        for _ in range(5):
            await dispatcher.drain_once()
        for member in recipients:
            [message] = world.fake.sent(int(member.user_id))
            assert message.text.startswith(f"คุณ{member.name} รับซื้อ 1 แถม 1")
        for member in [*holdout, *members[-4:]]:
            assert world.fake.sent(int(member.user_id)) == []

        claimers = recipients[:6]
        for member in claimers:
            await s.press(int(member.user_id), f"cmp:{campaign_id}")
        async with app.uow() as uow:
            coupons = (
                (await uow.session.execute(select(Coupon).order_by(Coupon.member_id)))
                .scalars()
                .all()
            )
        assert [c.member_id for c in coupons] == [m.member_id for m in claimers]

        clock.advance(timedelta(days=1))  # Wednesday, 14:30 shop time
        for coupon in coupons[:4]:
            await s.say(CASHIER, f"/redeem {coupon.code}")
        for n, member in enumerate(recipients[:5]):
            await s.say(CASHIER, f"/sale {member.member_code} 150 receipt=FL-R{n}")
        for n, member in enumerate(holdout[:2]):
            await s.say(CASHIER, f"/sale {member.member_code} 100 receipt=FL-H{n}")
        for _ in range(3):
            await dispatcher.drain_once()

        clock.advance(timedelta(days=7))
        async with app.uow() as uow:
            stats = await compute_stats(uow, campaign_id, clock.now())
        assert stats.recipients.sent == len(recipients)
        assert stats.recipients.claimed == len(claimers)
        assert stats.recipients.redeemed == 4
        assert stats.recipients.revenue == Decimal(150 * 5)
        assert stats.holdout.revenue == Decimal(100 * min(2, len(holdout)))
        assert stats.holdout.sent == 0
        assert str(len(recipients)) in await s.say(OWNER, f"/stats {campaign_id}")
