"""PDPA in chat: /stop and /resume, /mydata, /deleteme (and no replay brings a person back)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from bot.bootstrap import App
from bot.core.messages import Inbound, Reply
from handlers.customer.signup import MARKETING_WORDING, MEMBERSHIP_WORDING
from jobs.feedback import run_feedback
from shop.campaigns.launch import segment_env, start_campaign
from storage.models import (
    AuditEntry,
    ChannelIdentity,
    ConversationState,
    InboxMessage,
    Member,
    OutboxMessage,
    PointsEntry,
    Sale,
)
from storage.raw_session import session_of
from tests.chat import Chat
from tests.domain.campaign_support import make_campaign
from tests.unit.inbox_support import add_sale, feedback_rows
from tests.unit.journey_support import add_branches, buttons, consents, join, only_member, rows
from tests.unit.rewards_support import make_coupon
from tests.unit.staff_support import member_chat, staff_chat
from wording.campaigns import CampaignWording


async def test_stop_then_resume_appends_marketing_consents(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    stopped = await chat.say("/stop")
    assert "ยังจะแจ้งเรื่องการซื้อและแต้ม" in stopped[0].text  # receipts still come
    assert (await only_member(app)).marketing_opt_in is False
    await chat.say("resume")
    member = await only_member(app)
    assert member.marketing_opt_in is True
    assert await consents(app, member.id) == [
        ("membership", True, MEMBERSHIP_WORDING),
        ("marketing", True, MARKETING_WORDING),
        ("marketing", False, MARKETING_WORDING),
        ("marketing", True, MARKETING_WORDING),
    ]
    actions = [a.action for a in await rows(app, AuditEntry)]
    assert actions[-2:] == ["consent.marketing_withdrawn", "consent.marketing_granted"]


async def test_mydata_sends_a_json_file_with_everything(app: App) -> None:
    branch_ids = await add_branches(app)
    chat = Chat(app)
    await join(chat, name="พลอย 🌸", branch=str(branch_ids["asoke"]))
    member = await only_member(app)
    async with app.uow() as uow:
        session_of(uow).add(
            Sale(
                receipt_no="R9",
                member_id=member.id,
                branch_id=branch_ids["asoke"],
                amount=Decimal("120.50"),
                occurred_at=app.clock.now(),
            )
        )
        await uow.commit()
    await chat.say("ขอสอบถามเวลาเปิดร้านค่ะ")
    replies = await chat.say("/mydata")

    attachment = replies[0].attachment
    assert attachment is not None
    assert (attachment.filename, attachment.mime_type) == (
        "chatcrm-mydata.json",
        "application/json",
    )
    data = json.loads(attachment.content.decode("utf-8"))
    assert "พลอย 🌸" in attachment.content.decode("utf-8")  # UTF-8, not \\u escapes
    assert data["member"]["phone"] == "+66812345678"
    assert data["member"]["birthday"] == "1987-05-01"
    assert data["member"]["home_branch"] == "asoke"
    assert data["channel_identities"][0]["user_id"] == "u1"
    assert [(c["purpose"], c["granted"], c["wording_version"]) for c in data["consents"]] == [
        ("membership", True, MEMBERSHIP_WORDING),
        ("marketing", True, MARKETING_WORDING),
    ]
    assert data["consents"][0]["recorded_at"].startswith("2026-03-03T07:30:00")
    assert data["sales"][0]["amount_thb"] == "120.50"
    assert data["points"][0]["delta"] == 50
    assert [m["text"] for m in data["messages"]] == ["ขอสอบถามเวลาเปิดร้านค่ะ"]


async def test_deleteme_asks_first_and_no_keeps_everything(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    replies = await chat.say("/deleteme")
    assert buttons(replies) == ["del:yes", "del:no"]
    await chat.press("del:no")
    assert (await only_member(app)).name == "Ploy"


@pytest.fixture
def recorded(app: App, monkeypatch: pytest.MonkeyPatch) -> list[Inbound]:
    """Every event the test sends through the bus, to replay later."""
    events: list[Inbound] = []
    handle = app.bus.handle

    async def recording(inbound: Inbound) -> list[Reply]:
        events.append(inbound)
        return await handle(inbound)

    monkeypatch.setattr(app.bus, "handle", recording)
    return events


async def test_deleteme_erases_personal_data_and_keeps_anonymous_totals(
    app: App, recorded: list[Inbound]
) -> None:
    branch_ids = await add_branches(app)
    chat = Chat(app)
    await join(chat, branch=str(branch_ids["asoke"]))
    member = await only_member(app)
    async with app.uow() as uow:
        session_of(uow).add(
            Sale(
                receipt_no="R1",
                member_id=member.id,
                branch_id=branch_ids["asoke"],
                amount=Decimal(300),
                occurred_at=app.clock.now(),
            )
        )
        await uow.commit()
    await chat.say("hello shop")
    await chat.say("/deleteme")
    replies = await chat.press("del:yes")
    assert "ลบข้อมูลส่วนตัวของคุณเรียบร้อยแล้ว" in replies[0].text

    erased = await only_member(app)
    assert erased.erased_at is not None
    personal = (erased.name, erased.phone, erased.birthday, erased.gender, erased.home_branch_id)
    assert personal == (None, None, None, None, None)
    assert (erased.referred_by_code, erased.signup_source) == (None, None)
    assert await rows(app, ChannelIdentity) == []
    assert await rows(app, InboxMessage) == []
    assert await rows(app, ConversationState) == []
    assert len(await rows(app, Sale)) == 1
    assert len(await rows(app, PointsEntry)) == 1
    (entry,) = await rows(app, AuditEntry, AuditEntry.action == "member.erased")
    assert entry.details == {}
    assert entry.actor == "customer"

    for event in list(recorded):  # the webhooks redelivered, sign-up included
        assert await app.bus.handle(event) == []
    assert [m.name for m in await rows(app, Member)] == [None]
    assert await rows(app, ChannelIdentity) == []
    assert await rows(app, InboxMessage) == []


async def test_after_erasure_the_same_user_is_a_stranger(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    await chat.say("/deleteme")
    await chat.press("del:yes")
    replies = await chat.say("/points")
    assert buttons(replies) == ["cmd:start"]
    (identity,) = await rows(app, ChannelIdentity)
    assert identity.member_id is None


async def test_erased_user_can_join_again_with_the_same_phone(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    await chat.say("/deleteme")
    await chat.press("del:yes")
    await join(chat)
    members = await rows(app, Member, Member.erased_at.is_(None))
    assert [m.phone for m in members] == ["+66812345678"]


async def test_deleteme_strips_chat_id_and_text_from_messages_already_sent(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    member = await only_member(app)
    async with app.uow() as uow:
        await uow.outbox.enqueue(
            "receipt:1",
            "telegram",
            chat.user_id,
            {"v": 1, "replies": [{"text": "Khun Ploy, thank you"}]},
            app.clock.now(),
            member_id=member.id,
        )
        await session_of(uow).execute(update(OutboxMessage).values(status="sent"))
        await uow.commit()
    await chat.say("/deleteme")
    await chat.press("del:yes")
    (sent,) = await rows(app, OutboxMessage)
    assert sent.status == "sent"  # still counted
    assert sent.user_id != chat.user_id
    assert "Ploy" not in json.dumps(sent.payload)


async def test_mydata_holds_everything_kept_about_the_member_readably(app: App) -> None:
    """Issue 15 item 2: coupons, tags and staff notes, feedback, inbox threads, contact events
    and campaigns are in the export, as indented UTF-8 JSON."""
    await staff_chat(app, "cash1", "cashier", "asoke")
    chat, member = await member_chat(app, name="พลอย")
    await chat.say("มีโต๊ะว่างไหมคะ")
    cashier = Chat(app, user_id="cash1")
    await cashier.say(f"/tag {member.member_code} +ลูกค้าประจำ")
    await cashier.say(f"/note {member.member_code} ชอบหวานน้อย")
    await make_coupon(app, member.id)
    await add_sale(app, member.id, "asoke", app.clock.now())
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:5")
    await chat.say("อร่อยค่ะ")
    await _start_campaign(app)
    await chat.say("/stop")
    content = (await chat.say("/mydata"))[0].attachment
    assert content is not None
    raw = content.content.decode("utf-8")
    assert '\n  "member": {' in raw  # indented
    assert "ชอบหวานน้อย" in raw  # UTF-8, not \\u escapes
    data = json.loads(raw)
    assert [c["title_th"] for c in data["coupons"]] == ["ชานมไข่มุกฟรี"]
    assert [t["tag"] for t in data["tags"]] == ["ลูกค้าประจำ"]
    assert [n["text"] for n in data["staff_notes"]] == ["ชอบหวานน้อย"]
    assert [(f["rating"], f["comment"]) for f in data["feedback"]] == [(5, "อร่อยค่ะ")]
    (thread,) = data["inbox_threads"]
    assert [m["text"] for m in thread["messages"]] == ["มีโต๊ะว่างไหมคะ"]
    assert [e["kind"] for e in data["contact_events"]] == ["stopped"]
    assert ("Tea time", "recipient") in [(c["campaign"], c["group"]) for c in data["campaigns"]]
    assert data["exported_at"].startswith("2026-03-03T10:30:00")


async def _start_campaign(app: App) -> None:
    campaign = await make_campaign(app, holdout_pct=0)
    async with app.uow() as uow:
        found = await uow.campaigns.get(campaign.id)
        assert found is not None
        env = await segment_env(uow, app.clock.now(), app.settings.tz)
        await start_campaign(uow, found, env, app.clock.now(), wording=CampaignWording())
        await uow.commit()
