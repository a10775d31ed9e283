"""/campaign preview says which part of the audience waits for a channel that is not connected."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Channel
from tests.domain.campaign_support import make_campaign
from tests.unit.staff_support import make_member, staff_chat


async def _audience(app: App, telegram: int, line: int) -> None:
    for i in range(telegram):
        await make_member(app, f"t{i}", f"0810000{i:03d}", user_id=f"tg{i}")
    for i in range(line):
        phone = f"0820000{i:03d}"
        await make_member(app, f"l{i}", phone, user_id=f"U{i:032x}", channel=Channel.LINE)


async def _preview(app: App, language: str) -> str:
    manager = await staff_chat(app, f"boss-{language}", "manager", language_code=language)
    campaign = await make_campaign(app, holdout_pct=0)
    await manager.say(f"/campaign preview {campaign.id}")
    return manager.text()


async def test_members_on_channels_without_tokens_are_said_to_wait_in_english(app: App) -> None:
    await _audience(app, telegram=3, line=2)
    text = await _preview(app, "en")
    assert "3 members are on Telegram, which is not connected: they will wait" in text
    assert "2 members are on LINE, which is not connected: they will wait" in text


async def test_and_in_thai(app: App) -> None:
    await _audience(app, telegram=3, line=0)
    text = await _preview(app, "th")
    assert "สมาชิก 3 คนใช้ Telegram ซึ่งยังไม่ได้เชื่อมต่อ: ข้อความจะรอจนกว่าจะเชื่อมต่อ" in text
    assert "LINE ซึ่งยังไม่ได้เชื่อมต่อ" not in text  # nobody is on LINE


async def test_a_connected_channel_is_not_mentioned(app: App) -> None:
    app.settings = app.settings.model_copy(
        update={"telegram_bot_token": "123:abc", "telegram_webhook_secret": "s"}
    )
    app.bus.settings = app.settings
    await _audience(app, telegram=3, line=2)
    text = await _preview(app, "en")
    assert "on Telegram, which is not connected" not in text
    assert "2 members are on LINE, which is not connected" in text
