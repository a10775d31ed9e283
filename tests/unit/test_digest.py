"""The daily digest: yesterday's numbers (shop time) equal hand counts, sent once a day at the
set hour (to owners and managers; the branch digests are in ``test_digest_branches``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import format_baht, t
from jobs.digest import run_digest
from storage.models import Coupon, Feedback
from storage.raw_session import session_of
from tests.unit.inbox_support import add_sale
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import ensure_branch, make_member, staff_chat

# 2026-03-02 in Bangkok runs from 2026-03-01 17:00 to 2026-03-02 17:00 UTC
YESTERDAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok on 2 March


async def shop_with_a_day_of_history(app: App, clock: FrozenClock) -> None:
    today = clock.now()
    clock.set(YESTERDAY)
    ploy = await make_member(app, "Ploy", "081-000-0001", user_id="m1")
    nok = await make_member(app, "Nok", "081-000-0002", user_id="m2")
    clock.set(YESTERDAY - timedelta(days=3))
    await make_member(app, "Old", "081-000-0003", user_id="m3")  # not new yesterday
    clock.set(today)
    await add_sale(app, ploy.id, "ratchada", YESTERDAY, "100.00")
    await add_sale(app, nok.id, "ratchada", YESTERDAY + timedelta(hours=1), "250.00")
    await add_sale(app, None, "dindaeng", YESTERDAY + timedelta(hours=2), "50.00")
    await add_sale(app, ploy.id, "dindaeng", YESTERDAY + timedelta(hours=3), "999.00", voided=True)
    # 23:59 on 1 March and 00:00 on 3 March in Bangkok: not yesterday
    await add_sale(app, nok.id, "ratchada", datetime(2026, 3, 1, 16, 59, tzinfo=UTC), "700.00")
    await add_sale(app, nok.id, "ratchada", datetime(2026, 3, 2, 17, 0, tzinfo=UTC), "800.00")
    ratchada = await ensure_branch(app, "ratchada")
    async with app.uow() as uow:
        for sale_id, rating in ((1, 2), (2, 5)):
            session_of(uow).add(
                Feedback(
                    sale_id=sale_id,
                    member_id=ploy.id,
                    branch_id=ratchada,
                    asked_at=YESTERDAY,
                    rating=rating,
                    answered_at=YESTERDAY + timedelta(hours=4),
                )
            )
        session_of(uow).add(
            Coupon(
                code="C-DIGEST-1",
                member_id=ploy.id,
                title_th="กาแฟฟรี",
                title_en="Free coffee",
                status="redeemed",
                issued_at=YESTERDAY - timedelta(days=5),
                expires_at=YESTERDAY + timedelta(days=30),
                redeemed_at=YESTERDAY + timedelta(hours=5),
            )
        )
        await uow.commit()


async def test_the_digest_numbers_equal_hand_counts(app: App, clock: FrozenClock) -> None:
    owner = await staff_chat(app, "own1", "owner")
    await shop_with_a_day_of_history(app, clock)
    clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # 08:00 in Bangkok
    assert await run_digest(app) == {"queued": 1}
    [row] = await queued(app, "digest:2026-03-02:")
    assert row.user_id == owner.user_id
    lines = texts(row).split("\n")
    assert t("th", "digest.sales", n=3, total=format_baht(Decimal("400.00"), "th")) in lines
    ratchada = t("th", "digest.branch", branch="รัชดา", n=2, total=format_baht(Decimal(350), "th"))
    dindaeng = t("th", "digest.branch", branch="ดินแดง", n=1, total=format_baht(Decimal(50), "th"))
    assert lines[2:4] == [ratchada, dindaeng]
    assert t("th", "digest.members", n=2) in lines
    assert t("th", "digest.redemptions", n=1) in lines
    assert t("th", "digest.feedback", n=2, average="3.5", low=1) in lines
    assert t("th", "digest.quota_unknown") in lines  # no LINE channel in this test


async def test_the_digest_waits_for_its_hour_and_is_sent_once_a_day(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "mgr1", "manager", "ratchada")
    clock.set(datetime(2026, 3, 3, 0, 59, tzinfo=UTC))  # 07:59 in Bangkok
    assert await run_digest(app) == {"queued": 0}
    clock.advance(timedelta(minutes=1))
    assert await run_digest(app) == {"queued": 2}  # the owner and the branch's manager
    clock.advance(timedelta(hours=1))
    assert await run_digest(app) == {"queued": 0}
    assert [row.user_id for row in await queued(app, "digest:")] == ["own1", "mgr1"]
