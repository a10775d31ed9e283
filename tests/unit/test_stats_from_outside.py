"""/stats on campaigns the simulator never makes, read as the owner reads it in the chat.

Each test builds the rows by hand (who was in which group, who bought what and when), counts
the expected figure itself, and checks the reply: a true number, or words saying it cannot be
told — never a confident figure from too little, never NaN or a negative count.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.bootstrap import App
from storage.models import Member
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.staff_support import member_chat, staff_chat
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_groups,
    add_member,
    add_sale,
)

BAD_NUMBERS = re.compile(r"\bnan\b|\binf\b|[\s(฿]-\d", re.IGNORECASE)


async def _groups(
    app: App, recipients: int, holdout: int, *, status: str = "sent"
) -> tuple[int, datetime, list[int], list[int]]:
    start = app.clock.now() - timedelta(days=8)
    groups = await add_groups(app, start, recipients, holdout, status=status)
    return groups.campaign, start, groups.sent, groups.held


async def _stats(app: App, campaign: int) -> str:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    replies = await manager.say(f"/stats {campaign}")
    return replies[0].text


def _line(text: str, prefix: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(prefix))


async def test_voided_sales_leave_no_revenue_and_no_claim(app: App) -> None:
    campaign, start, sent, _held = await _groups(app, 30, 30)
    for member in sent:
        await add_sale(app, member, "250", start + timedelta(days=1), voided=True)
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿0 vs hold-out ฿0"
    assert _line(text, "Visits:") == "Visits: recipients 0 vs hold-out 0"
    assert "Too few members to tell" in text  # nobody bought: nothing to compare
    assert "Extra revenue and ROI: too few" in text
    assert not BAD_NUMBERS.search(text)


async def test_sales_back_dated_before_the_start_are_not_the_campaigns(app: App) -> None:
    campaign, start, sent, _held = await _groups(app, 30, 30)
    for member in sent[:10]:
        await add_sale(app, member, "500", start - timedelta(days=2))  # imported history
    await add_sale(app, sent[0], "80", start + timedelta(days=1))
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿80 vs hold-out ฿0"
    assert _line(text, "Visits:") == "Visits: recipients 1 vs hold-out 0"


async def test_identical_spending_in_both_groups_is_no_effect(app: App) -> None:
    campaign, start, sent, held = await _groups(app, 30, 30)
    for member in sent + held:
        await add_sale(app, member, "100", start + timedelta(days=2))
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿3,000 vs hold-out ฿3,000"
    assert _line(text, "Visits:") == "Visits: recipients 30 vs hold-out 30"
    assert "✅" not in text
    # nobody's spending varied: no interval can be built, so none is claimed
    assert "Extra revenue and ROI: too little variation to tell yet." in text
    assert not re.search(r"\bnan\b|\binf\b", text, re.IGNORECASE)


ZERO_WIDTH = re.compile(r"95%: ([+-]?฿[\d,.]+) to \1\)")


async def test_identical_spending_does_not_claim_an_exact_zero_effect(app: App) -> None:
    campaign, start, sent, held = await _groups(app, 30, 30)
    for member in sent + held:
        await add_sale(app, member, "100", start + timedelta(days=2))
    text = await _stats(app, campaign)
    # "+฿0/member (95%: +฿0 to +฿0)": 30 members a side cannot pin the effect to exactly ฿0
    assert not ZERO_WIDTH.search(text), text
    assert "Too little variation to tell yet whether it worked" in text


async def test_uniform_spending_gives_no_single_point_extra_revenue(app: App) -> None:
    campaign, start, sent, held = await _groups(app, 30, 30)
    for member in sent:
        await add_sale(app, member, "100", start + timedelta(days=2))
    for member in held:
        await add_sale(app, member, "90", start + timedelta(days=2))
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿3,000 vs hold-out ฿2,700"
    extra = _line(text, "Extra revenue")
    # "Extra revenue ฿300 to ฿300" is a certainty nobody measured: with no spread in either
    # group there is no range at all, only the words
    assert extra == "Extra revenue and ROI: too little variation to tell yet.", extra
    assert not ZERO_WIDTH.search(text), text


async def test_one_huge_outlier_sale_is_not_a_detected_uplift(app: App) -> None:
    campaign, start, sent, held = await _groups(app, 30, 30)
    await add_sale(app, sent[0], "1000000", start + timedelta(days=1))
    for member in sent[1:6] + held[:6]:
        await add_sale(app, member, "100", start + timedelta(days=1))
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿1,000,500 vs hold-out ฿600"
    assert "✅" not in text  # one buyer is not a campaign effect
    assert "Extra revenue and ROI: no number claimed" in text


async def test_a_hold_out_of_two_is_too_few_for_every_comparison(app: App) -> None:
    campaign, start, sent, _held = await _groups(app, 40, 2)
    for member in sent[:20]:
        await add_sale(app, member, "150", start + timedelta(days=1))
    text = await _stats(app, campaign)
    assert "Too few members to tell" in text
    assert "Visit rate difference: too few members to tell." in text
    assert "Extra revenue and ROI: too few members to tell yet." in text


async def test_a_campaign_still_sending_counts_what_is_waiting(app: App) -> None:
    start = app.clock.now() - timedelta(hours=1)
    campaign = (await add_groups(app, start, 3, 1, waiting=4, status="sending")).campaign
    text = await _stats(app, campaign)
    assert "· sending" in text
    assert "Sent 3 · failed 0 · blocked the bot 0 · waiting 4" in text
    assert "Withdrawn" not in text  # only shown when something was withdrawn
    assert "Too few members to tell" in text
    assert not BAD_NUMBERS.search(text)


async def test_erasing_every_hold_out_member_keeps_the_numbers(app: App) -> None:
    """Erasure empties the person but keeps anonymous totals: the comparison must not shift."""
    start = app.clock.now() - timedelta(days=8)
    campaign = await add_campaign(app, start)
    sent = [await add_member(app) for _ in range(3)]
    chats: list[Chat] = []
    held: list[int] = []
    for index in range(3):
        chat, member = await member_chat(app, phone=f"08123456{index:02d}", user_id=f"h{index}")
        chats.append(chat)
        held.append(member.id)
    await add_audience(
        app,
        campaign,
        [AudienceRow(m, sent_at=start) for m in sent]
        + [AudienceRow(m, group="holdout", status=None) for m in held],
    )
    for member_id in sent + held:
        await add_sale(app, member_id, "90", start + timedelta(days=1))
    before = await _stats(app, campaign)
    for chat in chats:
        await chat.say("/deleteme")
        await chat.press("del:yes")
    erased = await rows(app, Member, Member.erased_at.is_not(None))
    assert sorted(m.id for m in erased) == sorted(held)
    after = await _stats(app, campaign)
    assert _line(after, "Revenue:") == "Revenue: recipients ฿270 vs hold-out ฿270"
    assert _line(after, "Revenue:") == _line(before, "Revenue:")
    assert "Too few members to tell" in after


async def test_recipients_erased_mid_send_are_not_shown_as_sent(app: App) -> None:
    start = app.clock.now() - timedelta(hours=1)
    campaign = await add_campaign(app, start, status="sending")
    done = [await add_member(app) for _ in range(3)]
    chats: list[Chat] = []
    waiting: list[int] = []
    for index in range(4):
        chat, member = await member_chat(app, phone=f"08123457{index:02d}", user_id=f"w{index}")
        chats.append(chat)
        waiting.append(member.id)
    held = await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(m, sent_at=start) for m in done]
        + [AudienceRow(m, status="pending") for m in waiting]
        + [AudienceRow(held, group="holdout", status=None)],
    )
    for chat in chats:
        await chat.say("/deleteme")
        await chat.press("del:yes")
    text = await _stats(app, campaign)
    assert "sent to 7" in _line(text, "In the segment")
    delivery = _line(text, "Sent ")
    assert delivery == "Sent 3 · failed 0 · blocked the bot 0 · waiting 0"
    # 3 went out, 4 were withdrawn at the erasures: the 7 "sent to" must be accounted for
    accounted = sum(int(n) for n in re.findall(r"\d+", delivery))
    assert accounted == 7 or "withdrawn" in text.lower(), text
    assert _line(text, "Withdrawn").startswith("Withdrawn unsent 4 ")


async def test_the_window_counts_its_first_moment_and_not_its_end(app: App) -> None:
    """Measured for attribution_days (7) from the start: a sale one moment before the start is
    history and one at the very end belongs to the next week."""
    start = app.clock.now() - timedelta(days=9)
    campaign = await add_campaign(app, start)
    member, held = await add_member(app), await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(member, sent_at=start), AudienceRow(held, group="holdout", status=None)],
    )
    tick = timedelta(microseconds=1)
    await add_sale(app, member, "1", start - tick)
    await add_sale(app, member, "20", start)
    await add_sale(app, member, "300", start + timedelta(days=7) - timedelta(seconds=1))
    await add_sale(app, member, "4000", start + timedelta(days=7))
    text = await _stats(app, campaign)
    assert _line(text, "Revenue:") == "Revenue: recipients ฿320 vs hold-out ฿0"
    assert _line(text, "Visits:") == "Visits: recipients 2 vs hold-out 0"


async def test_a_campaign_cancelled_mid_send_accounts_for_what_was_withdrawn(app: App) -> None:
    start = app.clock.now() - timedelta(hours=1)
    campaign = (await add_groups(app, start, 3, 1, waiting=4, status="sending")).campaign
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say(f"/campaign cancel {campaign}")
    assert "withdrew 4 messages" in owner.text()
    text = await _stats(app, campaign)
    assert "· cancelled" in text
    delivery = _line(text, "Sent ")
    assert delivery == "Sent 3 · failed 0 · blocked the bot 0 · waiting 0"
    accounted = sum(int(n) for n in re.findall(r"\d+", delivery))
    assert accounted == 7 or "withdrawn" in text.lower(), _line(text, "In the segment")
    assert _line(text, "Withdrawn").startswith("Withdrawn unsent 4 ")


async def test_an_empty_hold_out_has_no_visit_rate_or_revenue_per_member(app: App) -> None:
    """A 10% hold-out of a 5-member segment rounds to nobody: its share and mean are not 0."""
    campaign, start, sent, _held = await _groups(app, 5, 0)
    for member in sent:
        await add_sale(app, member, "100", start + timedelta(days=1))
    text = await _stats(app, campaign)
    assert "hold-out 0 → sent to 5" in text
    assert _line(text, "Revenue:") == "Revenue: recipients ฿500 vs hold-out ฿0"  # a true sum
    assert "vs 0.0% of hold-out" not in _line(text, "Visited at least once")
    assert _line(text, "Revenue per member") != "Revenue per member: ฿100 vs ฿0"
    assert _line(text, "Visited at least once") == (
        "Visited at least once: 100.0% of recipients vs — of hold-out"
    )
    assert _line(text, "Revenue per member") == "Revenue per member: ฿100 vs —"


async def test_no_spread_is_said_in_thai_too(app: App) -> None:
    campaign, start, sent, held = await _groups(app, 30, 30)
    for member in sent + held:
        await add_sale(app, member, "100", start + timedelta(days=2))
    manager = await staff_chat(app, "mg", "manager", language_code="th")
    text = (await manager.say(f"/stats {campaign}"))[0].text
    assert "ยอดซื้อแทบไม่ต่างกันเลย" in text
    assert "ยอดขายที่เพิ่มขึ้นและ ROI: ยอดซื้อแทบไม่ต่างกัน ยังบอกไม่ได้" in text
    assert "95%" not in text.split("ส่วนต่างอัตราการมาซื้อ")[0]  # no revenue interval
