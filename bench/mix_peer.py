"""The typical peer of the mix benchmark: the same work per update, the ORM written plainly.

``python -m bench.peer_servers mix-peer PORT JSON`` (dispatched from there). Telegram: aiogram 3
(``SimpleRequestHandler``, a router of handlers, ``message.answer`` / ``answer_photo``,
``callback.answer()``); LINE: line-bot-sdk 3 (``WebhookParser``, ``AsyncMessagingApi``). Both
run one SQLAlchemy ORM session per update over the shop's tables (the product's declarative
models, as such a bot would declare its own): the event id added, the chat account loaded or
created and ``last_seen_at`` set on every update, its member, staff account and conversation
state loaded one by one, the kind's rows added, commit, reply; a receipt or an inbox notice is
an outbox row, sent after the commit and then marked sent.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.mix_load import BRANCH_ID
from bench.mix_work import CODE_ALPHABET, STEPS, YEAR, Answer
from storage.models import (
    AuditEntry,
    Branch,
    ChannelIdentity,
    Consent,
    ConversationState,
    InboxMessage,
    InboxThread,
    Member,
    OutboxMessage,
    PointsEntry,
    ProcessedEvent,
    Sale,
    Staff,
)

TTL: Final = timedelta(hours=24)


async def handle(
    session: AsyncSession, key: str, channel: str, user_id: str, payload: str
) -> Answer:
    """One update in ``session`` (committed here); returns what to send."""
    now = datetime.now(UTC)
    session.add(ProcessedEvent(event_key=key, processed_at=now))
    user = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.user_id == user_id
        )
    )
    if user is None:
        user = ChannelIdentity(
            channel=channel, user_id=user_id, display_name="Ploy", language_code="th"
        )
        user.reachable, user.first_seen_at = True, now
        session.add(user)
    user.last_seen_at = now
    await session.flush()
    member = await session.get(Member, user.member_id) if user.member_id else None
    state = await session.get(ConversationState, (channel, user_id))
    if payload.startswith("/sale"):
        staff = await session.scalar(
            select(Staff).where(Staff.channel == channel, Staff.user_id == user_id)
        )
        answer = await sale(session, payload, staff, channel, now)
    elif state is not None or payload == "/start":
        answer = await signup(session, user, state, payload, now)
    elif member is None:
        answer = Answer("สมัครสมาชิกก่อนนะคะ")
    elif payload in ("/points", "cmd:points", "/card"):
        spend = await spend_of(session, member.id, now)
        text = f"แต้มของคุณ: {member.points_balance} แต้ม\nยอดซื้อ 12 เดือน: {spend}"
        card = f"CRM:{member.member_code}" if payload == "/card" else None
        answer = Answer(text, card=card)
    else:
        answer = await to_inbox(session, user, member, payload, now)
    await session.commit()
    return answer


async def spend_of(session: AsyncSession, member_id: int, now: datetime) -> Decimal:
    entries = await session.scalars(select(PointsEntry).where(PointsEntry.member_id == member_id))
    _ = entries.all()  # the points lots, for the expiry warning
    spend = await session.scalar(
        select(func.coalesce(func.sum(Sale.amount), 0)).where(
            Sale.member_id == member_id, Sale.voided_at.is_(None), Sale.occurred_at >= now - YEAR
        )
    )
    return Decimal(spend or 0)


def _outbox(key: str, channel: str, to: str, member_id: int | None, text: str) -> OutboxMessage:
    now = datetime.now(UTC)
    return OutboxMessage(
        dedupe_key=key,
        channel=channel,
        user_id=to,
        member_id=member_id,
        promotional=False,
        payload={"v": 1, "replies": [{"text": text}]},
        status="pending",
        attempts=0,
        not_before=now,
        created_at=now,
        priority=0,
    )


async def to_inbox(
    session: AsyncSession, user: ChannelIdentity, member: Member, text: str, now: datetime
) -> Answer:
    thread = await session.scalar(
        select(InboxThread)
        .where(InboxThread.identity_id == user.id, InboxThread.status == "open")
        .order_by(InboxThread.id.desc())
        .limit(1)
    )
    if thread is None:
        thread = InboxThread(identity_id=user.id, member_id=member.id, status="open")
        thread.opened_at = now
        session.add(thread)
    thread.last_message_at = now
    await session.flush()
    message = InboxMessage(
        thread_id=thread.id, identity_id=user.id, member_id=member.id, text=text, received_at=now
    )
    session.add(message)
    await session.flush()
    answer = Answer("ขอบคุณสำหรับข้อความค่ะ ทางร้านจะตอบกลับในแชตนี้เร็ว ๆ นี้")
    told = await session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.dedupe_key.like(f"inbox:{thread.id}:a%"),
            OutboxMessage.created_at >= now - timedelta(minutes=10),
        )
    )
    if not told:
        owners = await session.scalars(
            select(Staff).where(Staff.channel == user.channel, Staff.role.in_(("owner", "manager")))
        )
        for owner in owners.all():
            notice = f"💬 ข้อความจากคุณ{member.name}:\n{text}"
            key = f"inbox:{thread.id}:a{message.id}|s{owner.id}"
            row = _outbox(key, owner.channel, owner.user_id, None, notice)
            session.add(row)
            await session.flush()
            answer.pushes.append((row.id, owner.channel, owner.user_id, notice))
    return answer


async def sale(
    session: AsyncSession, payload: str, staff: Staff | None, channel: str, now: datetime
) -> Answer:
    assert staff is not None
    _, phone, amount_text = payload.split()
    amount = Decimal(amount_text)
    member = await session.scalar(select(Member).where(Member.phone == phone))
    assert member is not None
    spend = await spend_of(session, member.id, now)
    points = int(amount // 25) * (1 if spend < 3000 else 2)
    receipt = f"MAIN-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    row = Sale(receipt_no=receipt, member_id=member.id, branch_id=BRANCH_ID, amount=amount)
    row.occurred_at, row.used_coupon, row.staff_id, row.source = now, False, staff.id, "chat"
    session.add(row)
    await session.flush()
    member.points_balance += points
    session.add(
        PointsEntry(
            member_id=member.id,
            delta=points,
            reason="sale",
            sale_id=row.id,
            earned_at=now,
            created_at=now,
            idempotency_key=f"sale:{row.id}",
        )
    )
    details = {"receipt": receipt, "amount": str(amount), "points": points}
    session.add(
        AuditEntry(
            actor=f"staff:{staff.id}",
            action="sale.recorded",
            member_id=member.id,
            details=details,
            channel=channel,
            created_at=now,
        )
    )
    to = await session.scalar(
        select(ChannelIdentity)
        .where(ChannelIdentity.member_id == member.id, ChannelIdentity.reachable.is_(True))
        .order_by(ChannelIdentity.last_seen_at.desc())
        .limit(1)
    )
    assert to is not None
    text = f"🧾 ขอบคุณที่อุดหนุนค่ะ\n{amount} บาท +{points} แต้ม คงเหลือ {member.points_balance}"
    notice = _outbox(f"receipt:{row.id}", to.channel, to.user_id, member.id, text)
    session.add(notice)
    await session.flush()
    answer = Answer(f"✅ {member.name} ({member.member_code}): {amount} บาท +{points} แต้ม")
    answer.pushes.append((notice.id, to.channel, to.user_id, text))
    return answer


async def signup(
    session: AsyncSession,
    user: ChannelIdentity,
    state: ConversationState | None,
    payload: str,
    now: datetime,
) -> Answer:
    if payload == "/start" or state is None:
        if state is None:
            state = ConversationState(channel=user.channel, user_id=user.user_id, flow="su")
            session.add(state)
        state.step, state.data, state.expires_at, state.updated_at = "consent", {}, now + TTL, now
        return Answer("ยินดีต้อนรับค่ะ! ยินยอมตามประกาศ?", [("ยอมรับ", "su:join"), ("ไม่", "su:later")])
    data = dict(state.data)
    data[state.step] = payload
    if state.step != "branch":
        following = STEPS[min(STEPS.index(state.step) + 1, len(STEPS) - 1)]
        buttons: list[tuple[str, str]] = []
        if following == "branch":
            branches = await session.scalars(select(Branch).where(Branch.active.is_(True)))
            buttons = [(branch.name_th, f"su:b:{branch.id}") for branch in branches.all()]
        state.step, state.data, state.expires_at, state.updated_at = following, data, now + TTL, now
        return Answer(f"ขั้นต่อไป: {following}", buttons)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    member = Member(member_code=code, name=data["name"], phone="+66" + data["phone"][1:])
    member.birthday, member.gender = date.fromisoformat(data["birthday"]), "female"
    member.home_branch_id, member.locale, member.joined_at = BRANCH_ID, "th", now
    member.marketing_opt_in, member.points_balance, member.phone_verified = True, 50, False
    session.add(member)
    await session.flush()
    user.member_id = member.id
    for purpose, wording in (("membership", "membership-v1"), ("marketing", "marketing-v1")):
        session.add(
            Consent(
                member_id=member.id,
                purpose=purpose,
                granted=True,
                wording_version=wording,
                channel=user.channel,
                recorded_at=now,
            )
        )
    welcome = PointsEntry(member_id=member.id, delta=50, reason="welcome", earned_at=now)
    welcome.created_at, welcome.idempotency_key = now, f"welcome:{member.id}"
    session.add(welcome)
    session.add(
        AuditEntry(
            actor="customer",
            action="member.joined",
            member_id=member.id,
            details={},
            channel=user.channel,
            created_at=now,
        )
    )
    await session.delete(state)
    return Answer(f"ยินดีต้อนรับคุณ {data['name']} ค่ะ! +50 แต้ม", card=f"CRM:{code}")
