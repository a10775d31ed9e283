"""/campaign preview says how big an uplift the send can detect, or why it cannot."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
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
    # before the last 7 days and the four weeks before them
    await add_sale(app, members[4], "5000", now - timedelta(days=36))
    await add_sale(app, members[5], "5000", now - timedelta(days=1), voided=True)
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    measured = await _measured(app)
    holdout = sum(in_holdout(campaign.id, m, 50) for m in measured)
    recipients = len(measured) - holdout
    values = [spent.get(m, 0.0) for m in measured]
    mean = sum(values) / len(values)
    # nobody bought the week before: the adjustment leaves the residual variance (n − 2)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 2)
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


def _residual_variance(xs: list[float], ys: list[float]) -> float:
    """Least squares of y on x by hand: the residual sum of squares over n − 2."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys, strict=True)) / (n - 2)


async def _regulars(
    app: App, members: list[int], earlier_at: datetime
) -> tuple[dict[int, float], dict[int, float]]:
    """Each member bought at ``earlier_at`` and again two days ago, a little more or less:
    what they spent then, and now."""
    now = app.clock.now()
    earlier, recent = {}, {}
    for k, member in enumerate(members):
        habit = 100 + 40 * k
        await add_sale(app, member, str(habit), earlier_at)
        await add_sale(app, member, str(habit + (k % 3) * 10), now - timedelta(days=2))
        earlier[member], recent[member] = float(habit), float(habit + (k % 3) * 10)
    return earlier, recent


async def test_preview_adjusts_the_detectable_uplift_for_earlier_spending(app: App) -> None:
    members = await _members(app, 80)
    now = app.clock.now()
    # regulars: what they spent the week before predicts this week
    earlier, recent = await _regulars(app, members[:20], now - timedelta(days=10))
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    measured = await _measured(app)
    holdout = sum(in_holdout(campaign.id, m, 50) for m in measured)
    recipients = len(measured) - holdout
    xs = [earlier.get(m, 0.0) for m in measured]
    ys = [recent.get(m, 0.0) for m in measured]
    adjusted = minimum_detectable_effect(_residual_variance(xs, ys), recipients, holdout)
    mean = sum(ys) / len(ys)
    plain_variance = sum((y - mean) ** 2 for y in ys) / (len(ys) - 1)
    plain = minimum_detectable_effect(plain_variance, recipients, holdout)
    assert adjusted < plain / 2
    assert f"ตั้งแต่ราว {format_baht(Decimal(round(adjusted)), 'th')} ต่อคน" in text
    assert f"ถ้าไม่ปรับตามยอดซื้อเดิมของแต่ละคนจะเป็น {format_baht(Decimal(round(plain)), 'th')}" in text
    assert f"/campaign power {campaign.id}" in text
    # the same counts, in the words the send and /stats use
    assert f"→ กลุ่มเทียบ {holdout} คน → ส่งถึง {recipients} คน" in text


async def test_power_gives_the_hold_out_that_detects_the_target(app: App) -> None:
    members = await _members(app, 400)
    now = app.clock.now()
    for k, member in enumerate(members[:200]):
        await add_sale(app, member, str(50 + k % 9 * 20), now - timedelta(days=2))
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await make_campaign(app, holdout_pct=10)

    await manager.say(f"/campaign power {campaign.id} 40")
    text = manager.text()

    measured = await _measured(app)
    assert f"To detect ฿40 per member (5% test, 80% power) among {len(measured)} members" in text
    needed = int(text.split("hold out at least ")[1].split(" ")[0])
    spend = {m: 50.0 + k % 9 * 20 for k, m in enumerate(members[:200])}
    values = [spend.get(m, 0.0) for m in measured]
    mean = sum(values) / len(values)
    # nobody bought the week before: the adjustment leaves the residual variance (n − 2)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 2)
    # the hold-out found detects the target; one member fewer does not
    assert minimum_detectable_effect(variance, len(measured) - needed, needed) <= 40
    assert minimum_detectable_effect(variance, len(measured) - needed + 1, needed - 1) > 40


async def test_power_says_when_no_hold_out_can_detect_the_target(app: App) -> None:
    members = await _members(app, 80)
    await add_sale(app, members[0], "900", app.clock.now() - timedelta(days=1))
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await make_campaign(app, holdout_pct=10)
    await manager.say(f"/campaign power {campaign.id} 1")
    assert "cannot be detected among" in manager.text()


#: past the money cap or finer than a satang: refused where it is read, not "something went
#: wrong" once the answer formats ฿1E+999999
@pytest.mark.parametrize(
    "amount", ["zero", "-5", "0", "1e999999", "9" * 40, "1E+99", "nan", "0.001"]
)
async def test_power_rejects_a_bad_amount_and_changes_nothing(app: App, amount: str) -> None:
    await _members(app, 40)
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await make_campaign(app, holdout_pct=10)
    await manager.say(f"/campaign power {campaign.id} {amount}")
    assert "The uplift must be an amount of baht above 0 and up to ฿1,000,000,000,000" in (
        manager.text()
    )
    await manager.say(f"/campaign power {campaign.id}")
    assert "Usage: /campaign power ID AMOUNT" in manager.text()


async def test_preview_and_send_give_the_same_counts_in_the_same_words(app: App) -> None:
    await _members(app, 60)
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await make_campaign(app, holdout_pct=20)

    preview = await _preview(app, manager, campaign.id)
    [flow] = [line for line in preview.splitlines() if line.startswith("If sent now: ")]
    await manager.press(f"cmpa:send:{campaign.id}")
    sent = manager.text()

    assert flow.removeprefix("If sent now: ").startswith("In the segment ")
    assert flow.removeprefix("If sent now: ") in sent


async def test_the_preview_button_asks_for_the_target_and_sizes_the_hold_out(app: App) -> None:
    members = await _members(app, 400)
    now = app.clock.now()
    for k, member in enumerate(members[:200]):
        await add_sale(app, member, str(50 + k % 9 * 20), now - timedelta(days=2))
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await make_campaign(app, holdout_pct=10)
    replies = await manager.say(f"/campaign preview {campaign.id}")
    [button] = replies[0].buttons
    assert button.action == f"cmpp:{campaign.id}"

    await manager.press(button.action)
    assert f"should campaign #{campaign.id} be able to detect?" in manager.text()
    await manager.say("lots")  # not an amount: asked again, nothing else happens
    assert "The uplift must be an amount of baht above 0" in manager.text()
    await manager.say("40")
    by_button = manager.text()
    await manager.say(f"/campaign power {campaign.id} 40")
    assert by_button == manager.text()
    assert "To detect ฿40 per member" in by_button


async def test_preview_adjusts_for_the_four_weeks_before_the_last_window(app: App) -> None:
    members = await _members(app, 80)
    now = app.clock.now()
    # regulars who came three weeks ago (in the history, not in the week just before)
    earlier, recent = await _regulars(app, members[:20], now - timedelta(days=22))
    manager = await staff_chat(app, "boss", "manager")
    campaign = await make_campaign(app, holdout_pct=50)

    text = await _preview(app, manager, campaign.id)

    measured = await _measured(app)
    holdout = sum(in_holdout(campaign.id, m, 50) for m in measured)
    xs = [earlier.get(m, 0.0) for m in measured]
    ys = [recent.get(m, 0.0) for m in measured]
    # nobody bought in the week just before: the residual variance is the larger one
    adjusted = minimum_detectable_effect(
        _residual_variance(xs, ys), len(measured) - holdout, holdout
    )
    assert f"ตั้งแต่ราว {format_baht(Decimal(round(adjusted)), 'th')} ต่อคน" in text
    assert "ใน 7 วันที่ผ่านมาและ 28 วันก่อนหน้านั้น" in text
