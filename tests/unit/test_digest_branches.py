"""The daily digest per branch (managers get their own branch's numbers) and its campaign lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import format_baht, t
from jobs.digest import run_digest
from storage.models import Campaign, CampaignMember, Coupon, Feedback
from storage.raw_session import session_of
from tests.unit import tracking_support
from tests.unit.inbox_support import add_sale
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import ensure_branch, make_member, staff_chat

YESTERDAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok on 2 March
DIGEST_TIME = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok on 3 March


async def _branch_day(app: App, clock: FrozenClock, code: str, amount: str, rating: int) -> None:
    """At branch ``code`` yesterday: a new member of it, their sale, a redemption, a rating."""
    clock.set(YESTERDAY)
    member = await make_member(
        app, code.title(), f"081-111-{len(code):04d}", user_id=code, home_branch_code=code
    )
    sale_id = await add_sale(app, member.id, code, YESTERDAY, amount)
    branch_id = await ensure_branch(app, code)
    async with app.uow() as uow:
        session_of(uow).add(
            Feedback(
                sale_id=sale_id,
                member_id=member.id,
                branch_id=branch_id,
                asked_at=YESTERDAY,
                rating=rating,
                answered_at=YESTERDAY + timedelta(hours=4),
            )
        )
        session_of(uow).add(
            Coupon(
                code=f"C-{code.upper()}"[:13],
                member_id=member.id,
                title_th="กาแฟฟรี",
                title_en="Free coffee",
                status="redeemed",
                issued_at=YESTERDAY - timedelta(days=5),
                expires_at=YESTERDAY + timedelta(days=30),
                redeemed_at=YESTERDAY + timedelta(hours=5),
                redeemed_branch_id=branch_id,
            )
        )
        await uow.commit()


async def _digest_of(app: App, staff_user_id: str) -> list[str]:
    rows = [row for row in await queued(app, "digest:2026-03-02:") if row.user_id == staff_user_id]
    [row] = rows
    return texts(row).split("\n")


async def test_a_branch_manager_gets_their_branch_numbers_only(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "mgr-s", "manager", "sukhumvit")
    await staff_chat(app, "mgr-all", "manager")
    await _branch_day(app, clock, "sukhumvit", "300.00", 5)
    await _branch_day(app, clock, "asoke", "120.00", 1)
    await tracking_support.add_campaign(app, YESTERDAY - timedelta(days=1), name="Tea time")
    clock.set(DIGEST_TIME)
    assert await run_digest(app) == {"queued": 3}
    lines = await _digest_of(app, "mgr-s")
    assert lines[0].startswith(t("th", "digest.title_branch", branch="สุขุมวิท", day="")[:-1])
    assert t("th", "digest.sales", n=1, total=format_baht(Decimal("300.00"), "th")) in lines
    assert t("th", "digest.members", n=1) in lines
    assert t("th", "digest.redemptions", n=1) in lines
    assert t("th", "digest.feedback", n=1, average="5.0", low=0) in lines
    assert not any("อโศก" in line or "Tea time" in line for line in lines)
    for everywhere in ("own1", "mgr-all"):  # owners and managers of no branch: the whole shop
        whole = await _digest_of(app, everywhere)
        assert t("th", "digest.sales", n=2, total=format_baht(Decimal("420.00"), "th")) in whole
        assert t("th", "digest.feedback", n=2, average="3.0", low=1) in whole


async def test_the_owner_can_switch_the_managers_digest_off(app: App, clock: FrozenClock) -> None:
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "mgr-s", "manager", "sukhumvit")
    async with app.uow() as uow:
        await uow.settings.put("digest", {"managers": False}, app.clock.now())
        await uow.commit()
    clock.set(DIGEST_TIME)
    assert await run_digest(app) == {"queued": 1}
    assert [row.user_id for row in await queued(app, "digest:")] == ["own1"]


async def test_the_digest_lists_campaigns_active_yesterday_but_not_cancelled_ones(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    clock.set(YESTERDAY)
    started = YESTERDAY - timedelta(days=2)
    campaign = await tracking_support.add_campaign(app, started, name="Tea time")
    cancelled = await tracking_support.add_campaign(
        app, started, name="Rainy day", status="cancelled"
    )
    buyer = await tracking_support.add_member(app, "buyer")
    other = await tracking_support.add_member(app, "other")
    await tracking_support.add_audience(
        app,
        campaign,
        [
            tracking_support.AudienceRow(buyer, sent_at=started),
            tracking_support.AudienceRow(other, sent_at=started),
        ],
    )
    await tracking_support.add_audience(
        app, cancelled, [tracking_support.AudienceRow(other, sent_at=started)]
    )
    await tracking_support.add_coupon(app, campaign, buyer, redeemed_at=YESTERDAY)
    await tracking_support.add_sale(app, buyer, "180", YESTERDAY)
    clock.set(DIGEST_TIME)
    await run_digest(app)
    lines = await _digest_of(app, "own1")
    revenue = format_baht(Decimal("180.00"), "th")
    line = t("th", "digest.campaign", name="Tea time", sent=2, redeemed=1, revenue=revenue)
    assert line in lines
    assert not any("Rainy day" in text for text in lines)


async def _automation(app: App, period: str, enrolled_at: datetime) -> None:
    """A win-back campaign of ``period`` that last took a member in at ``enrolled_at``."""
    member = await tracking_support.add_member(app, f"w{period}")
    async with app.uow() as uow:
        campaign = Campaign(
            name=f"winback {period}",
            kind="automation:winback",
            period_key=period,
            segment_name="automation:winback",
            rule="",
            message="",
            holdout_pct=10,
            attribution_days=7,
            status="sent",
            started_at=enrolled_at - timedelta(days=3),
            finished_at=enrolled_at - timedelta(days=3),
            created_by="system",
            created_at=enrolled_at - timedelta(days=3),
        )
        session_of(uow).add(campaign)
        await uow.flush()
        session_of(uow).add(
            CampaignMember(
                campaign_id=campaign.id,
                member_id=member,
                group="recipient",
                enrolled_at=enrolled_at,
            )
        )
        await uow.commit()


async def test_an_automation_is_listed_while_its_last_member_is_still_measured(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    await _automation(app, "2026-01", YESTERDAY - timedelta(days=30))  # measured until 8 Feb
    await _automation(app, "2026-02", YESTERDAY - timedelta(days=3))  # measured until 6 Mar
    clock.set(DIGEST_TIME)
    await run_digest(app)
    lines = await _digest_of(app, "own1")
    label = t("th", "auto.label_winback")  # an automation is named in the reader's language
    assert any(f"{label} 2026-02" in line for line in lines)
    assert not any(f"{label} 2026-01" in line for line in lines)
