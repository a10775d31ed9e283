"""/campaign preview says how big an uplift the send can detect, or why it cannot."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.i18n import format_baht
from shop.campaigns.launch import in_holdout
from shop.campaigns.uplift import minimum_detectable_effect
from storage.models import Member
from storage.raw_session import session_of
from tests.chat import Chat
from tests.domain.campaign_support import exclusions, make_campaign
from tests.unit.staff_support import make_member, staff_chat
from tests.unit.tracking_support import add_sale


async def _members(app: App, count: int) -> list[int]:
    ids = []
    for i in range(count):
        member = await make_member(app, f"m{i}", f"08{i:08d}", user_id=f"u{i}")
        ids.append(member.id)
    return ids


async def _preview(app: App, manager: Chat, campaign_id: int) -> str:
    await manager.say(f"/campaign preview {campaign_id}")
    return manager.text()


async def _measured(app: App) -> list[int]:
    """Every member the send would measure (eligible: not excluded), staff included if so."""
    async with app.uow() as uow:
        ids = list(await session_of(uow).scalars(select(Member.id)))
    return [m for m, reason in (await exclusions(app, ids)).items() if reason is None]


async def test_preview_states_the_detectable_uplift_from_past_spending(app: App) -> None:
    members = await _members(app, 80)
    now = app.clock.now()
    spent = {members[0]: 900.0, members[1]: 300.0, members[2]: 150.0, members[3]: 150.0}
    await add_sale(app, members[0], "600", now - timedelta(days=1))
    await add_sale(app, members[0], "300", now - timedelta(days=6))  # one member, two visits
    await add_sale(app, members[1], "300", now - timedelta(days=2))
    await add_sale(app, members[2], "150", now - timedelta(hours=3))
    await add_sale(app, members[3], "150", now - timedelta(days=5))
    await add_sale(app, members[4], "5000", now - timedelta(days=8))  # before the 7-day window
    await add_sale(app, members[5], "5000", now - timedelta(days=1), voided=True)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    measured = await _measured(app)
    holdout = sum(in_holdout(campaign.id, m, 50) for m in measured)
    recipients = len(measured) - holdout
    values = [spent.get(m, 0.0) for m in measured]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    effect = minimum_detectable_effect(variance, recipients, holdout)
    assert math.isfinite(effect)
    assert (
        f"ผู้รับ {recipients} คน และกลุ่มเทียบ {holdout} คน แคมเปญนี้จะเห็นยอดเพิ่มได้ตั้งแต่ราว "
        f"{format_baht(Decimal(round(effect)), 'th')} ต่อคน"
    ) in text


async def test_preview_suggests_a_bigger_hold_out_when_it_is_under_thirty(app: App) -> None:
    await _members(app, 100)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=10)

    text = await _preview(app, manager, campaign.id)

    holdout = sum(in_holdout(campaign.id, m, 10) for m in await _measured(app))
    assert holdout < 30
    # 30 of about 100 measured members: 30%
    assert f"กลุ่มเทียบมีเพียง {holdout} คน (ต้องมีอย่างน้อย 30 คน)" in text
    assert "ตั้งกลุ่มเทียบราว 30% เพื่อวัดผลแคมเปญนี้" in text
    assert "จะเห็นยอดเพิ่มได้ตั้งแต่ราว" not in text


async def test_preview_says_a_small_audience_cannot_be_measured(app: App) -> None:
    await _members(app, 40)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    assert "กลุ่มเป้าหมายเล็กเกินกว่าที่กลุ่มเทียบใหญ่ขึ้นจะช่วยได้" in text


async def test_preview_without_past_sales_says_there_is_nothing_to_judge_by(app: App) -> None:
    await _members(app, 80)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    assert "สมาชิกกลุ่มนี้ไม่มียอดซื้อใน 7 วันที่ผ่านมา" in text


async def test_preview_without_a_hold_out_says_the_uplift_is_not_measured(app: App) -> None:
    await _members(app, 80)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=0)

    text = await _preview(app, manager, campaign.id)

    assert "ไม่มีกลุ่มเทียบ /stats จะไม่วัดยอดเพิ่มของแคมเปญนี้" in text
