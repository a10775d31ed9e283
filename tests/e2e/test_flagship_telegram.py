"""SPEC §2's flagship scenario on Telegram, through the real web app and the fake Bot API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import callback_update, text_update
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
        segment_reply, campaign_id = await shop.owner_builds_the_campaign(app, s, OWNER)
        assert "tea5" in segment_reply
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
        coupons = await shop.members_claim(app, s, claimers, campaign_id, lambda m: int(m.user_id))
        assert [c.member_id for c in coupons] == [m.member_id for m in claimers]

        clock.advance(timedelta(days=1))  # Wednesday, 14:30 shop time
        await shop.cashier_records_visits(s, CASHIER, coupons, recipients, holdout)
        for _ in range(3):
            await dispatcher.drain_once()

        stats = await shop.stats_a_week_later(app, clock, campaign_id)
        assert stats.recipients.sent == len(recipients)
        assert stats.recipients.claimed == len(claimers)
        assert stats.recipients.redeemed == 4
        assert stats.recipients.revenue == Decimal(150 * 5)
        assert stats.holdout.revenue == Decimal(100 * min(2, len(holdout)))
        assert stats.holdout.sent == 0
        assert str(len(recipients)) in await s.say(OWNER, f"/stats {campaign_id}")
