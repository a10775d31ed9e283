"""What a ``/sale`` writes and answers, row by row, the same on SQLite and PostgreSQL.

The sale's reads (member, branches, figures before the sale) are one statement and its
receipt is written to the member's chat account by one ``INSERT … SELECT``: every column of
every row it writes, and every reply, is pinned here for the forms a counter meets (a member
on LINE, on Telegram, a Thai name, a receipt given twice, a member with no chat account).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel, Inbound, InboundKind
from bot.i18n import t
from handlers.staff import sale_notices
from storage.models import OutboxMessage, Sale, Staff
from storage.repositories.outbox_reads import PENDING
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    outbox_rows,
    staff_chat,
)

THAI_NAME = "พลอย\u200bใจดี 🌸"


async def _counter(app: App) -> tuple[Chat, dict[str, int]]:
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    return await staff_chat(app, "c1", "cashier", "asoke", name="Nok"), branches


def _sale_row(sale: Sale) -> tuple[Any, ...]:
    return (
        sale.receipt_no,
        sale.amount,
        sale.categories,
        sale.used_coupon,
        sale.voided_at,
        sale.voided_by_staff_id,
        sale.source,
    )


def _outbox_row(row: OutboxMessage) -> dict[str, Any]:
    return {
        "channel": row.channel,
        "user_id": row.user_id,
        "promotional": row.promotional,
        "status": row.status,
        "attempts": row.attempts,
        "priority": row.priority,
        "error": row.error,
        "sent_at": row.sent_at,
        "retry_key": len(row.retry_key or ""),
    }


async def _audited(app: App, member_id: int, now: datetime) -> None:
    """The sale's audit row, every column."""
    [audit] = await audit_rows(app, "sale.recorded")
    [staff] = await rows(app, Staff)
    assert (audit.actor, audit.member_id, audit.channel, audit.created_at) == (
        f"staff:{staff.id}",
        member_id,
        "telegram",
        now,
    )
    assert audit.details == {
        "receipt": "R-77",
        "amount": "1260.50",
        "points": 50,
        "balance_before": 0,
        "balance_after": 50,
        "branch": "asoke",
    }


async def _one_sale(app: App, channel: Channel, user_id: str) -> None:
    cashier, branches = await _counter(app)
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id=user_id, channel=channel)
    now: datetime = app.clock.now()
    await cashier.say("/sale ๐๘๑-๒๓๔-๕๖๗๘ 1,260.50 receipt=R-77 cat=tea,Snack")

    [sale] = await sales(app)
    assert _sale_row(sale) == ("R-77", Decimal("1260.50"), "tea,snack", False, None, None, "chat")
    assert (sale.member_id, sale.branch_id, sale.occurred_at) == (
        member.id,
        branches["asoke"],
        now,
    )
    assert await ledger(app, member.id) == [(50, "sale")]
    await _audited(app, member.id, now)
    [row] = await outbox_rows(app)
    assert row.dedupe_key == f"receipt:{sale.id}"
    assert row.member_id == member.id
    assert (row.not_before, row.created_at) == (now, now)
    assert _outbox_row(row) == {
        "channel": channel.value,
        "user_id": user_id,
        "promotional": False,
        "status": PENDING,
        "attempts": 0,
        "priority": 0,
        "error": None,
        "sent_at": None,
        "retry_key": 36,
    }
    assert texts(row) == t(
        "th",
        "sale.receipt",
        branch="อโศก",
        amount="1,260.50 บาท",
        points="50",
        balance="50",
        receipt="R-77",
    )
    assert cashier.text() == t(
        "th",
        "sale.recorded",
        member=f"{THAI_NAME} ({member.member_code})",
        amount="1,260.50 บาท",
        branch="อโศก",
        points="50",
        balance="50",
        receipt="R-77",
    )


async def test_a_sale_to_a_member_on_line_writes_these_rows(app: App) -> None:
    await _one_sale(app, Channel.LINE, "U" + "a" * 32)


async def test_a_sale_to_a_member_on_telegram_writes_these_rows(app: App) -> None:
    await _one_sale(app, Channel.TELEGRAM, "m1")


async def test_a_receipt_given_again_is_answered_as_a_duplicate_and_writes_nothing(
    app: App,
) -> None:
    cashier, _ = await _counter(app)
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id="m1", points=5)
    await cashier.say("/sale 0812345678 260 receipt=R1")
    await cashier.say("/sale 0812345678 260 receipt=R1")

    assert cashier.text() == t(
        "th",
        "sale.duplicate",
        receipt="R1",
        member=f"{THAI_NAME} ({member.member_code})",
        amount="260 บาท",
        points="10",
    )
    assert len(await sales(app)) == 1
    assert await ledger(app, member.id) == [(5, "welcome"), (10, "sale")]
    assert len(await audit_rows(app, "sale.recorded")) == 1
    assert [r.dedupe_key for r in await outbox_rows(app)] == [f"receipt:{(await sales(app))[0].id}"]


async def test_a_member_with_no_chat_account_gets_the_sale_and_no_receipt(app: App) -> None:
    cashier, branches = await _counter(app)
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id=None)
    await cashier.say(f"/sale {member.member_code} 130")

    [sale] = await sales(app)
    assert (sale.member_id, sale.branch_id, sale.amount) == (
        member.id,
        branches["asoke"],
        Decimal("130.00"),
    )
    assert await ledger(app, member.id) == [(5, "sale")]
    assert [a.member_id for a in await audit_rows(app, "sale.recorded")] == [member.id]
    assert await outbox_rows(app) == []
    assert cashier.text() == t(
        "th",
        "sale.recorded",
        member=f"{THAI_NAME} ({member.member_code})",
        amount="130 บาท",
        branch="อโศก",
        points="5",
        balance="5",
        receipt=sale.receipt_no,
    )


async def test_the_receipt_goes_to_the_account_seen_last_of_two(app: App) -> None:
    """A member on LINE and on Telegram: the receipt goes where they talked last."""
    cashier, _ = await _counter(app)
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id="m1")
    async with app.uow() as uow:
        line = await uow.identities.touch("line", "U" + "b" * 32, app.clock.now(), None, "th")
        line.member_id = member.id
        await uow.commit()
    await cashier.say("/sale 0812345678 260")
    [sale] = await sales(app)
    [row] = await queued(app, f"receipt:{sale.id}")
    assert (row.channel, row.user_id) == ("line", "U" + "b" * 32)


async def test_a_notice_written_with_its_account_chosen_is_the_row_enqueue_writes(
    app: App,
) -> None:
    """The ``INSERT … SELECT`` lists the outbox's columns itself: a column it left out (a new
    one, say) would be written otherwise than by :meth:`Outbox.enqueue`."""
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id="m1")
    now = app.clock.now()
    payload = {"replies": [{"text": "สวัสดี"}]}
    async with app.uow() as uow:
        identity = await uow.identities.preferred(member.id)
        assert identity is not None
        assert await uow.outbox.enqueue(
            "a", identity.channel, identity.user_id, payload, now, member_id=member.id
        )
        assert await uow.outbox.enqueue_to_member("b", member.id, payload, now)
        assert not await uow.outbox.enqueue_to_member("b", member.id, payload, now)
        assert uow.outbox.enqueued == 2
        await uow.commit()
    one, other = await outbox_rows(app)
    differ = {"id", "dedupe_key", "retry_key"}
    columns = [c.key for c in OutboxMessage.__table__.columns if c.key not in differ]
    assert {k: getattr(one, k) for k in columns} == {k: getattr(other, k) for k in columns}
    assert one.retry_key != other.retry_key


def _said(chat: Chat, event_id: str, text: str) -> Inbound:
    return Inbound(
        identity=chat.identity,
        kind=InboundKind.TEXT,
        received_at=chat.app.clock.now(),
        event_id=event_id,
        language_code="th",
        text=text,
    )


async def test_two_cashiers_a_redelivery_and_a_crash_in_one_batch_each_have_their_own_effect(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One group-commit batch: a sale that crashes after writing its sale and points (its
    savepoint undoes them), another cashier's sale to the same member, and one sale delivered
    twice. Each kept sale is written once, with its points, audit row and receipt."""
    await ensure_branches(app, ("asoke",))
    first = await staff_chat(app, "c1", "cashier", "asoke")
    second = await staff_chat(app, "c2", "cashier", "asoke")
    member = await make_member(app, THAI_NAME, "081-234-5678", user_id="m1")
    pay = sale_notices.pay_referral_if_first_purchase

    async def _crash_on_r9(uow: Any, who: Any, sale: Sale, *rest: Any, **named: Any) -> None:
        if sale.receipt_no == "R9":
            raise RuntimeError("a bug after the sale was written")
        await pay(uow, who, sale, *rest, **named)

    monkeypatch.setattr(sale_notices, "pay_referral_if_first_purchase", _crash_on_r9)
    twice = _said(first, "tg:s1", "/sale 0812345678 260 receipt=R1")
    crashed, once, again, other = await asyncio.gather(
        app.bus.handle(_said(first, "tg:s9", "/sale 0812345678 500 receipt=R9")),
        app.bus.handle(twice),
        app.bus.handle(twice),
        app.bus.handle(_said(second, "tg:s2", "/sale 0812345678 130 receipt=R2")),
    )

    assert [r.text for r in crashed] == [t("th", "error.internal")]
    assert len(once) + len(again) == 1  # the redelivery answers nothing
    assert other
    assert sorted(s.receipt_no for s in await sales(app)) == ["R1", "R2"]
    assert sorted(await ledger(app, member.id)) == [(5, "sale"), (10, "sale")]
    assert await balance(app, member.id) == 15
    audited = await audit_rows(app, "sale.recorded")
    assert sorted(a.details["receipt"] for a in audited) == ["R1", "R2"]
    by_receipt = {s.receipt_no: s.id for s in await sales(app)}
    keys = sorted(r.dedupe_key for r in await outbox_rows(app))
    assert keys == sorted(f"receipt:{by_receipt[n]}" for n in ("R1", "R2"))
    await first.say("/sale 0812345678 260 receipt=R3")
    assert len(await sales(app)) == 3
