"""What the raw-driver floor of the mix does per update, written once for both databases.

Each kind of update is a generator that yields ``(sql, params)`` and is sent the rows back:
:mod:`bench.mix_floor` runs it on SQLite (the stdlib driver, the whole transaction one trip to
its worker thread) or on PostgreSQL (asyncpg, one pooled connection, one transaction). The
statements are the writes and reads ``chatcrm serve`` makes for the same update (read off its
SQL): the event id recorded, the chat account created or its ``last_seen_at`` written when 5
minutes old, the account with its member, staff account and conversation state in one SELECT,
then the kind's own statements. What the floor leaves out is only what is not a database
statement of the event: no settings, no routing, no ORM, no per-event logging.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from bench.mix_load import BRANCH_ID

Rows = list[tuple[Any, ...]]
Work = Generator[tuple[str, tuple[Any, ...]], Rows, "Answer"]

STALE: Final = timedelta(minutes=5)
YEAR: Final = timedelta(days=365)
CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(slots=True)
class Answer:
    """The reply to the author, and messages to others sent once committed (outbox ids)."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    card: str | None = None  # the QR payload of a member card
    pushes: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, channel, to, text


@dataclass(frozen=True, slots=True)
class Event:
    key: str
    channel: str
    user: str
    now: datetime
    kind: str  # text / button
    payload: str


ARRIVE: Final = (
    "INSERT INTO channel_identities (channel, user_id, display_name, language_code, reachable, "
    "first_seen_at, last_seen_at) VALUES (?, ?, 'Ploy', 'th', TRUE, ?, ?) "
    "ON CONFLICT (channel, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at "
    "WHERE channel_identities.last_seen_at < ?"
)
AUTHOR: Final = (
    "SELECT ci.id, ci.member_id, m.name, m.points_balance, m.member_code, s.id, cs.step, cs.data "
    "FROM channel_identities ci LEFT JOIN members m ON m.id = ci.member_id "
    "LEFT JOIN staff s ON s.channel = ci.channel AND s.user_id = ci.user_id AND s.active "
    "LEFT JOIN conversation_states cs ON cs.channel = ci.channel AND cs.user_id = ci.user_id "
    "WHERE ci.channel = ? AND ci.user_id = ?"
)
STATUS: Final = (
    "SELECT (SELECT coalesce(sum(amount), 0) FROM sales WHERE member_id = ? AND voided_at IS NULL "
    "AND occurred_at >= ?), delta, earned_at FROM points_ledger WHERE member_id = ?"
)
SAVE_STATE: Final = (
    "UPDATE conversation_states SET step = ?, data = ?, expires_at = ?, updated_at = ? "
    "WHERE channel = ? AND user_id = ?"
)
OUTBOX: Final = (
    "INSERT INTO outbox (dedupe_key, channel, user_id, member_id, promotional, payload, status, "
    "attempts, not_before, created_at, priority) VALUES (?, ?, ?, ?, FALSE, ?, 'pending', 0, ?, ?, "
    "0) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
SENT: Final = "UPDATE outbox SET status = 'sent', attempts = 1 WHERE id = ?"


def handle(event: Event) -> Work:
    """The whole transaction of one update."""
    rows = yield (
        "INSERT INTO processed_events (event_key, processed_at) VALUES (?, ?) "
        "ON CONFLICT (event_key) DO NOTHING RETURNING event_key",
        (event.key, event.now),
    )
    if not rows:
        return Answer("")
    now = event.now
    yield ARRIVE, (event.channel, event.user, now, now, now - STALE)
    (author,) = yield AUTHOR, (event.channel, event.user)
    member_id, name, balance, code, staff, step, data = author[1:]
    if event.payload.startswith("/sale"):
        return (yield from sale(event, staff))
    if step is not None or event.payload == "/start":
        return (yield from signup(event, author[0], step, data))
    if member_id is None:
        return Answer("สมัครสมาชิกก่อนนะคะ", [("สมัคร", "cmd:start")])
    if event.payload in ("/points", "cmd:points", "/card"):
        spend, expiring = yield from status(member_id, now)
        text = f"แต้มของคุณ: {balance} แต้ม\nยอดซื้อ 12 เดือน: {spend}\nใกล้หมดอายุ: {expiring}"
        return Answer(text, card=f"CRM:{code}" if event.payload == "/card" else None)
    return (yield from to_inbox(event, author[0], member_id, name))


def status(member_id: int, now: datetime) -> Generator[tuple[str, tuple[Any, ...]], Rows, Any]:
    """The 12-month spend (the tier) and the points expiring within a month (FIFO lots)."""
    rows = yield STATUS, (member_id, now - YEAR, member_id)
    spend = rows[0][0] if rows else 0
    earned = sorted((row for row in rows if row[1] > 0), key=lambda row: str(row[2]))
    spent = -sum(row[1] for row in rows if row[1] < 0)
    expiring = 0
    for _, delta, earned_at in earned:
        used = min(spent, delta)
        spent -= used
        if str(earned_at) < str(now - YEAR + timedelta(days=30)):
            expiring += delta - used
    return spend, expiring


def to_inbox(event: Event, identity: int, member_id: int, name: str) -> Work:
    now = event.now
    rows = yield (
        "SELECT id FROM inbox_threads WHERE identity_id = ? AND status = 'open' "
        "ORDER BY id DESC LIMIT 1",
        (identity,),
    )
    if rows:
        thread = rows[0][0]
        yield "UPDATE inbox_threads SET last_message_at = ? WHERE id = ?", (now, thread)
    else:
        rows = yield (
            "INSERT INTO inbox_threads (identity_id, member_id, status, opened_at, "
            "last_message_at) VALUES (?, ?, 'open', ?, ?) RETURNING id",
            (identity, member_id, now, now),
        )
        thread = rows[0][0]
    (message,) = yield (
        "INSERT INTO inbox (thread_id, direction, identity_id, member_id, text, status, "
        "received_at) VALUES (?, 'in', ?, ?, ?, 'open', ?) RETURNING id",
        (thread, identity, member_id, event.payload, now),
    )
    answer = Answer("ขอบคุณสำหรับข้อความค่ะ ทางร้านจะตอบกลับในแชตนี้เร็ว ๆ นี้")
    (told,) = yield (
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE ? AND created_at >= ?",
        (f"inbox:{thread}:a%", now - timedelta(minutes=10)),
    )
    if told[0] == 0:
        owners = yield (
            "SELECT s.id, s.channel, s.user_id FROM staff s WHERE s.active AND s.channel = ? "
            "AND s.role IN ('manager', 'owner') ORDER BY s.id",
            (event.channel,),
        )
        for staff_id, channel, user in owners:
            text = f"💬 ข้อความจากคุณ{name}:\n{event.payload}"
            payload = json.dumps({"v": 1, "replies": [{"text": text}]})
            key = f"inbox:{thread}:a{message[0]}|s{staff_id}"
            rows = yield OUTBOX, (key, channel, user, None, payload, now, now)
            answer.pushes += [(rows[0][0], channel, user, text)] if rows else []
    return answer


def sale(event: Event, staff: int | None) -> Work:
    now = event.now
    _, phone, amount_text = event.payload.split()
    amount = int(amount_text)
    (member,) = yield (
        "SELECT id, name, member_code, points_balance FROM members WHERE phone = ?",
        (phone,),
    )
    member_id, name, code, balance = member
    rows = yield STATUS, (member_id, now - YEAR, member_id)
    points = amount // 25 * (1 if rows[0][0] < 300_000 else 2)
    receipt = f"MAIN-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    (sale_row,) = yield (
        "INSERT INTO sales (receipt_no, member_id, branch_id, amount, occurred_at, used_coupon, "
        "staff_id, source) VALUES (?, ?, ?, ?, ?, FALSE, ?, 'chat') RETURNING id",
        (receipt, member_id, BRANCH_ID, amount * 100, now, staff),
    )
    yield "UPDATE members SET points_balance = points_balance + ? WHERE id = ?", (points, member_id)
    yield (
        "INSERT INTO points_ledger (member_id, delta, reason, sale_id, earned_at, created_at, "
        "idempotency_key) VALUES (?, ?, 'sale', ?, ?, ?, ?)",
        (member_id, points, sale_row[0], now, now, f"sale:{sale_row[0]}"),
    )
    details = json.dumps({"receipt": receipt, "amount": amount, "points": points})
    yield (
        "INSERT INTO audit_log (actor, action, member_id, details, channel, created_at) "
        "VALUES (?, 'sale.recorded', ?, ?, ?, ?)",
        (f"staff:{staff}", member_id, details, event.channel, now),
    )
    (to,) = yield (
        "SELECT channel, user_id FROM channel_identities WHERE member_id = ? AND reachable "
        "ORDER BY last_seen_at DESC, id DESC LIMIT 1",
        (member_id,),
    )
    text = f"🧾 ขอบคุณที่อุดหนุนค่ะ\n{amount} บาท +{points} แต้ม คงเหลือ {balance + points} แต้ม"
    payload = json.dumps({"v": 1, "replies": [{"text": text}]})
    rows = yield OUTBOX, (f"receipt:{sale_row[0]}", to[0], to[1], member_id, payload, now, now)
    answer = Answer(f"✅ {name} ({code}): {amount} บาท +{points} แต้ม")
    answer.pushes += [(rows[0][0], to[0], to[1], text)] if rows else []
    return answer


STEPS: Final = ("consent", "marketing", "name", "phone", "birthday", "gender", "branch")


def signup(event: Event, identity: int, step: str | None, data: Any) -> Work:
    """One step of the sign-up; the state row carries the answers until the member is written."""
    now, where = event.now, (event.channel, event.user)
    if event.payload == "/start":
        yield (
            "INSERT INTO conversation_states (channel, user_id, flow, step, data, expires_at, "
            "updated_at) VALUES (?, ?, 'su', 'consent', '{}', ?, ?) ON CONFLICT (channel, "
            "user_id) DO UPDATE SET step = 'consent', data = '{}', expires_at = "
            "excluded.expires_at, updated_at = excluded.updated_at",
            (*where, now + timedelta(hours=24), now),
        )
        return Answer("ยินดีต้อนรับค่ะ! ยินยอมตามประกาศ?", [("ยอมรับ", "su:join"), ("ไม่", "su:later")])
    answers = json.loads(data) if isinstance(data, str) else dict(data or {})
    answers[str(step)] = event.payload
    if step != "branch":
        following = STEPS[min(STEPS.index(str(step)) + 1, len(STEPS) - 1)]
        buttons: list[tuple[str, str]] = []
        if following == "branch":
            branches = yield "SELECT id, name_th FROM branches WHERE active ORDER BY id", ()
            buttons = [(name, f"su:b:{branch}") for branch, name in branches]
        state = (following, json.dumps(answers), now + timedelta(hours=24), now, *where)
        yield SAVE_STATE, state
        return Answer(f"ขั้นต่อไป: {following}", buttons)
    return (yield from new_member(event, identity, answers))


def new_member(event: Event, identity: int, answers: dict[str, Any]) -> Work:
    now = event.now
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    phone = "+66" + answers["phone"][1:]
    (member,) = yield (
        "INSERT INTO members (member_code, name, phone, birthday, gender, home_branch_id, locale, "
        "joined_at, marketing_opt_in, points_balance, phone_verified) VALUES (?, ?, ?, ?, ?, ?, "
        "'th', ?, TRUE, 50, FALSE) RETURNING id",
        (
            code,
            answers["name"],
            phone,
            date.fromisoformat(answers["birthday"]),
            "female",
            BRANCH_ID,
            now,
        ),
    )
    yield "UPDATE channel_identities SET member_id = ? WHERE id = ?", (member[0], identity)
    for purpose, wording in (("membership", "membership-v1"), ("marketing", "marketing-v1")):
        yield (
            "INSERT INTO consents (member_id, purpose, granted, wording_version, channel, "
            "recorded_at) VALUES (?, ?, TRUE, ?, ?, ?)",
            (member[0], purpose, wording, event.channel, now),
        )
    yield (
        "INSERT INTO points_ledger (member_id, delta, reason, earned_at, created_at, "
        "idempotency_key) VALUES (?, 50, 'welcome', ?, ?, ?)",
        (member[0], now, now, f"welcome:{member[0]}"),
    )
    yield (
        "INSERT INTO audit_log (actor, action, member_id, details, channel, created_at) "
        "VALUES ('customer', 'member.joined', ?, '{}', ?, ?)",
        (member[0], event.channel, now),
    )
    yield (
        "DELETE FROM conversation_states WHERE channel = ? AND user_id = ?",
        (
            event.channel,
            event.user,
        ),
    )
    return Answer(f"ยินดีต้อนรับคุณ {answers['name']} ค่ะ! +50 แต้ม", card=f"CRM:{code}")
