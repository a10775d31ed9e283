"""The owner's daily digest, run as the scheduler runs it, on a campaign's odd day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import format_baht, t
from jobs.digest import run_digest
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import staff_chat
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_coupon,
    add_member,
    add_sale,
)

# 2 March in Bangkok is [1 March 17:00, 2 March 17:00) UTC
YESTERDAY_10 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
DIGEST_TIME = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 on 3 March in Bangkok
LATE_RUN = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 11:00 on 3 March in Bangkok


async def test_the_campaign_line_counts_yesterday_only_and_no_voided_sale(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner", language_code="en")
    campaign = await add_campaign(app, YESTERDAY_10, name="Rainy day", status="sending")
    sent = [await add_member(app) for _ in range(3)]
    held = await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(m, sent_at=YESTERDAY_10) for m in sent]
        + [AudienceRow(held, group="holdout", status=None)],
    )
    await add_sale(app, sent[0], "120", YESTERDAY_10 + timedelta(hours=2))
    await add_sale(app, sent[1], "999", YESTERDAY_10 + timedelta(hours=3), voided=True)
    await add_sale(app, sent[2], "50", DIGEST_TIME - timedelta(minutes=30))  # today: not yet
    await add_sale(app, held, "70", YESTERDAY_10 + timedelta(hours=1))  # hold-out: not revenue
    clock.set(DIGEST_TIME)
    assert await run_digest(app) == {"queued": 1}
    [row] = await queued(app, "digest:2026-03-02:")
    lines = texts(row).split("\n")
    revenue = format_baht(Decimal("120.00"), "th")
    campaign_line = t(
        "th", "digest.campaign", name="Rainy day", sent=3, redeemed=0, revenue=revenue
    )
    assert campaign_line in lines
    assert t("th", "digest.sales", n=2, total=format_baht(Decimal("190.00"), "th")) in lines


async def test_the_campaign_line_counts_messages_sent_yesterday_not_this_morning(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    campaign = await add_campaign(app, YESTERDAY_10, name="Rainy day", status="sending")
    sent = [await add_member(app) for _ in range(3)]
    late = await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(m, sent_at=YESTERDAY_10) for m in sent]
        + [AudienceRow(late, sent_at=LATE_RUN - timedelta(hours=1))],
    )
    clock.set(LATE_RUN)  # the job runs late (at or after its hour), after today's first send
    assert await run_digest(app) == {"queued": 1}
    [row] = await queued(app, "digest:2026-03-02:")
    revenue = format_baht(Decimal("0.00"), "th")
    campaign_line = t(
        "th", "digest.campaign", name="Rainy day", sent=3, redeemed=0, revenue=revenue
    )
    assert campaign_line in texts(row).split("\n")


async def test_the_campaign_line_counts_coupons_redeemed_yesterday_not_this_morning(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    campaign = await add_campaign(app, YESTERDAY_10, name="Rainy day", status="sending")
    sent = [await add_member(app) for _ in range(3)]
    await add_audience(app, campaign, [AudienceRow(m, sent_at=YESTERDAY_10) for m in sent])
    await add_coupon(app, campaign, sent[0], redeemed_at=YESTERDAY_10 + timedelta(hours=2))
    await add_coupon(app, campaign, sent[1], redeemed_at=LATE_RUN - timedelta(hours=1))  # today
    clock.set(LATE_RUN)
    assert await run_digest(app) == {"queued": 1}
    [row] = await queued(app, "digest:2026-03-02:")
    revenue = format_baht(Decimal("0.00"), "th")
    campaign_line = t(
        "th", "digest.campaign", name="Rainy day", sent=3, redeemed=1, revenue=revenue
    )
    assert campaign_line in texts(row).split("\n")
