"""The /campaign wizard and the preview, test, send commands, driven through the bus."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.wire import payload_to_replies
from storage.models import Campaign
from tests.chat import Chat
from tests.domain.campaign_support import campaign_row
from tests.unit.staff_support import audit_rows, make_member, outbox_rows, staff_chat


async def _wizard(
    manager: Chat, *, message: str = "คุณ{name} รับ{coupon} ถึง {expires}", holdout: str = "0"
) -> int:
    """Create the flagship campaign through the wizard; returns its id."""
    await manager.say("/campaign new Tea time")
    await manager.say("points >= 0")
    await manager.say(message)
    await manager.press("cmpw:offer:buy_x_get_y")
    await manager.say("1-1")
    await manager.say("-")
    await manager.say("7")
    await manager.say("จ-ศ 14:00-16:00")
    await manager.say("-")
    await manager.say("25")
    await manager.say("-")
    await manager.press("cmpw:when:now")
    await manager.say(holdout)
    async with manager.app.uow() as uow:
        [campaign] = await uow.campaigns.recent(1)
        return campaign.id


async def test_wizard_saves_a_draft_with_the_offer_window_and_holdout(app: App) -> None:
    manager = await staff_chat(app, "boss", "manager")
    campaign_id = await _wizard(manager, holdout="10")
    campaign: Campaign = await campaign_row(app, campaign_id)
    assert (campaign.status, campaign.holdout_pct, campaign.rule) == ("draft", 10, "points >= 0")
    assert campaign.offer is not None
    assert campaign.offer["kind"] == "buy_x_get_y"
    assert campaign.offer["weekdays"] == [0, 1, 2, 3, 4]
    assert campaign.offer["hours"] == [14, 16]
    assert str(campaign.offer_cost) == "25.00"
    assert f"#{campaign_id}" in manager.text()
    assert [e.details["campaign_id"] for e in await audit_rows(app, "campaign.created")] == [
        campaign_id
    ]


async def test_template_with_attribute_access_is_refused_and_asked_again(app: App) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await manager.say("/campaign new")
    await manager.say("points >= 0")
    await manager.say("Hi {name.__class__}")
    assert "{name.__class__}" in manager.text()
    await manager.say("Hi {name}")
    assert any(b.action == "cmpw:offer:none" for r in manager.last for b in r.buttons)


async def test_segment_rule_typo_is_named_in_the_reply(app: App) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await manager.say("/campaign new")
    await manager.say("pionts >= 0")
    assert "pionts" in manager.text()


async def test_cashier_cannot_create_campaigns(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/campaign new")
    async with app.uow() as uow:
        state = await uow.conversations.get("telegram", "c1", app.clock.now())
    assert state is None


async def test_preview_shows_reach_exclusions_and_a_rendered_sample(app: App) -> None:
    await make_member(app, "Ploy", "0811111111", user_id="p")
    await make_member(app, "Nok", "0822222222", user_id="n", marketing=False)
    manager = await staff_chat(app, "boss", "manager")
    campaign_id = await _wizard(manager)
    await manager.say(f"/campaign preview {campaign_id}")
    text = manager.text()
    assert "ไม่ยินยอมรับข่าวสาร: 1" in text
    assert "โควตา LINE รายเดือน: ไม่ทราบ" in text
    assert "คุณPloy รับซื้อ 1 แถม 1" in text


async def test_preview_reads_the_line_quota_when_line_is_on(app: App) -> None:
    await make_member(app, "Ploy", "0811111111", user_id="p")
    manager = await staff_chat(app, "boss", "manager")
    campaign_id = await _wizard(manager)

    async def quota() -> tuple[int | None, int]:
        return 500, 499

    app.bus.quota_reader = quota
    await manager.say(f"/campaign preview {campaign_id}")
    assert "ใช้ไป 499 จาก 500" in manager.text()


async def test_test_send_goes_to_the_staff_member_only_with_the_button(app: App) -> None:
    await make_member(app, "Ploy", "0811111111", user_id="p")
    manager = await staff_chat(app, "boss", "manager", name="Boss")
    campaign_id = await _wizard(manager)
    replies = await manager.say(f"/campaign test {campaign_id}")
    assert "🧪" in replies[0].text
    assert replies[1].buttons[0].action == f"cmp:{campaign_id}"
    assert await outbox_rows(app, "cmp:") == []


async def test_send_asks_to_confirm_then_queues_the_messages(app: App) -> None:
    member = await make_member(app, "Ploy", "0811111111", user_id="p")
    manager = await staff_chat(app, "boss", "manager")
    campaign_id = await _wizard(manager)
    await manager.say(f"/campaign send {campaign_id}")
    assert await outbox_rows(app, "cmp:") == []
    await manager.press(f"cmpa:send:{campaign_id}")
    [row] = await outbox_rows(app, "cmp:")
    assert row.member_id == member.id
    assert payload_to_replies(row.payload)[0].text.startswith("คุณPloy รับซื้อ 1 แถม 1 ถึง")
    await manager.press(f"cmpa:send:{campaign_id}")
    assert len(await outbox_rows(app, "cmp:")) == 1


async def test_campaigns_lists_the_campaign_with_its_status(app: App) -> None:
    manager = await staff_chat(app, "boss", "manager")
    campaign_id = await _wizard(manager)
    await manager.say("/campaigns")
    assert f"#{campaign_id} Tea time · ฉบับร่าง" in manager.text()
