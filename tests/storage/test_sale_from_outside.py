"""``/sale`` at the counter (``shop/ledger.py`` ``record_sale``, ``storage/repositories/sales.py``)
as the outside meets it: two cashiers typing one receipt at once (on PostgreSQL in transactions
of their own, made to meet at the sale's INSERT), a sale redelivered, a sale that fails after
queuing its receipt beside another sale of the same member in its batch, a void racing the
receipt typed again, and an erasure batched before a sale."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.messages import Inbound, InboundKind
from bot.i18n import t
from handlers.staff import sale_notices
from storage.models import Member
from storage.repositories.sales import Sales
from tests.chat import Chat
from tests.storage.inbox_edges_support import text_of
from tests.storage.join_edges_support import on_postgres, until
from tests.unit.inbox_support import dispatcher
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import audit_rows, ensure_branch, make_member, make_staff


async def _counter(app: App) -> tuple[Chat, Chat, Member]:
    """Two cashiers of Asoke (English), and Ploy (Telegram ``m1``)."""
    await ensure_branch(app, "asoke")
    await make_staff(app, "c1", "cashier", "asoke")
    await make_staff(app, "c2", "cashier", "asoke")
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    one = Chat(app, user_id="c1", language_code="en")
    two = Chat(app, user_id="c2", language_code="en")
    return one, two, ploy


async def _meet_in_sale_writes(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, sends: list[Any]
) -> list[list[Any]]:
    """The sends at once; on PostgreSQL each in a transaction of its own, the first held just
    before its sale's INSERT (or its void's UPDATE) until the second gets to its own: both
    write while the other's transaction is open."""
    if not on_postgres(engine):
        return list(await asyncio.gather(*(send() for send in sends)))
    barrier = asyncio.Barrier(len(sends))

    def meeting(real: Any) -> Any:
        async def met(self: Sales, *args: Any, **kwargs: Any) -> Any:
            await asyncio.wait_for(barrier.wait(), 20)
            return await real(self, *args, **kwargs)

        return met

    monkeypatch.setattr(Sales, "add_unless_taken", meeting(Sales.add_unless_taken))
    monkeypatch.setattr(Sales, "mark_voided", meeting(Sales.mark_voided))
    first = asyncio.create_task(sends[0]())

    async def there() -> bool:
        return barrier.n_waiting >= 1

    await until(there, "the first sale at its write")
    second = await sends[1]()
    return [await first, second]


async def test_two_cashiers_typing_one_receipt_at_once_record_it_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, ploy = await _counter(app)
    command = f"/sale {ploy.member_code} 250 receipt=R1"
    answers = await _meet_in_sale_writes(
        engine, monkeypatch, [lambda: one.say(command), lambda: two.say(command)]
    )
    said = sorted(text_of(a) for a in answers)
    assert sum("Nothing was added" in text for text in said) == 1, said
    assert sum(text.startswith("✅") for text in said) == 1, said
    assert [s.receipt_no for s in await sales(app)] == ["R1"]
    assert await ledger(app, ploy.id) == [(10, "sale")]
    assert await balance(app, ploy.id) == 10
    assert len(await queued(app, "receipt:")) == 1
    assert len(await audit_rows(app, "sale.recorded")) == 1


async def test_two_cashiers_one_receipt_two_amounts_at_once_keep_the_first_and_refuse_the_other(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, ploy = await _counter(app)
    answers = await _meet_in_sale_writes(
        engine,
        monkeypatch,
        [
            lambda: one.say(f"/sale {ploy.member_code} 250 receipt=R1"),
            lambda: two.say(f"/sale {ploy.member_code} 500 receipt=R1"),
        ],
    )
    said = [text_of(a) for a in answers]
    assert sum("another amount or member" in text for text in said) == 1, said
    [sale] = await sales(app)
    assert str(sale.amount) in {"250.00", "500.00"}
    points = 10 if str(sale.amount) == "250.00" else 20
    assert await ledger(app, ploy.id) == [(points, "sale")]
    assert len(await queued(app, "receipt:")) == 1


async def test_a_sale_redelivered_in_its_batch_and_later_is_recorded_once(app: App) -> None:
    one, _, ploy = await _counter(app)

    def event() -> Inbound:
        return Inbound(
            identity=one.identity,
            kind=InboundKind.TEXT,
            received_at=app.clock.now(),
            event_id="tg:sale-1",
            language_code="en",
            text=f"/sale {ploy.member_code} 250 receipt=R1",
        )

    first, again = await asyncio.gather(app.bus.handle(event()), app.bus.handle(event()))
    later = await app.bus.handle(event())
    assert sorted([len(first), len(again), len(later)]) == [0, 0, 1]
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy.id) == [(10, "sale")]
    assert len(await queued(app, "receipt:")) == 1


async def test_a_sale_failing_after_its_receipt_is_queued_sends_nothing_and_spares_the_next(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sales of one member in one batch; the first crashes after its points and receipt
    were written: its sale, credit and receipt are undone, the second's receipt tells the
    balance the database holds, and only it is sent."""
    one, two, ploy = await _counter(app)
    real = sale_notices._confirmation

    def confirmation(ctx: Any, result: Any, *args: Any) -> Any:
        if result.sale.receipt_no == "R1":
            raise RuntimeError("printer down")
        return real(ctx, result, *args)

    monkeypatch.setattr(sale_notices, "_confirmation", confirmation)
    failed, kept = await asyncio.gather(
        one.say(f"/sale {ploy.member_code} 250 receipt=R1"),
        two.say(f"/sale {ploy.member_code} 500 receipt=R2"),
    )
    assert "went wrong" in text_of(failed) or "ขออภัย" in text_of(failed)
    assert text_of(kept).startswith("✅")
    assert "balance 20" in text_of(kept)
    assert [s.receipt_no for s in await sales(app)] == ["R2"]
    assert await ledger(app, ploy.id) == [(20, "sale")]
    [receipt] = await queued(app, "receipt:")
    assert "R2" in texts(receipt)
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    assert [push.user_id for push in telegram.pushes] == ["m1"]
    assert "R1" not in "\n".join(text for push in telegram.pushes for text in push.texts)


async def test_a_void_racing_the_receipt_typed_again_takes_the_points_back_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sale is recorded; then a manager voids it while a cashier types it again (on
    PostgreSQL in transactions of their own, both in flight at once): whichever wins, the
    sale ends voided, its points taken back once and never credited twice."""
    one, _, ploy = await _counter(app)
    await make_staff(app, "boss", "manager")
    manager = Chat(app, user_id="boss", language_code="en")
    await one.say(f"/sale {ploy.member_code} 250 receipt=R1")
    answers = await _meet_in_sale_writes(
        engine,
        monkeypatch,
        [
            lambda: one.say(f"/sale {ploy.member_code} 250 receipt=R1"),
            lambda: manager.say("/void R1"),
        ],
    )
    assert not any("went wrong" in text_of(a) for a in answers)
    [sale] = await sales(app)
    assert sale.voided_at is not None
    assert sorted(await ledger(app, ploy.id)) == sorted([(10, "sale"), (-10, "void")])
    assert await balance(app, ploy.id) == 0


async def test_an_erasure_batched_before_a_sale_of_that_member_refuses_the_sale(
    app: App,
) -> None:
    one, _, ploy = await _counter(app)
    member = Chat(app, user_id="m1")
    await member.say("/deleteme")
    erased, sale = await asyncio.gather(
        member.press("del:yes"), one.say(f"/sale {ploy.member_code} 250 receipt=R1")
    )
    assert text_of(erased) == t("th", "privacy.deleted")
    assert "No member found" in text_of(sale)
    assert await sales(app) == []
    assert await queued(app, "receipt:") == []


@pytest.mark.parametrize("typed", ["๑๒๓", "１２３"], ids=["thai-digits", "full-width"])
async def test_one_receipt_typed_in_thai_digits_then_ascii_is_recorded_once(
    app: App, typed: str
) -> None:
    one, two, ploy = await _counter(app)
    await one.say(f"/sale {ploy.member_code} 250 receipt={typed}")
    again = await two.say(f"/sale {ploy.member_code} 250 receipt=123")
    assert "Nothing was added" in text_of(again)
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy.id) == [(10, "sale")]


async def test_a_receipt_recorded_in_ascii_is_voided_typed_in_thai_digits(app: App) -> None:
    one, _, ploy = await _counter(app)
    await one.say(f"/sale {ploy.member_code} 250 receipt=123")
    voided = await one.say("/void ๑๒๓")
    assert "123" in text_of(voided)
    [sale] = await sales(app)
    assert sale.voided_at is not None
    assert await ledger(app, ploy.id) == [(10, "sale"), (-10, "void")]


async def test_two_sales_crossing_a_tier_at_once_tell_the_member_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, ploy = await _counter(app)
    await one.say(f"/sale {ploy.member_code} 2900 receipt=R0")
    answers = await _meet_in_sale_writes(
        engine,
        monkeypatch,
        [
            lambda: one.say(f"/sale {ploy.member_code} 200 receipt=R1"),
            lambda: two.say(f"/sale {ploy.member_code} 200 receipt=R2"),
        ],
    )
    assert all(text_of(a).startswith("✅") for a in answers)
    assert len(await sales(app)) == 3
    assert len(await queued(app, "tierup:")) == 1
