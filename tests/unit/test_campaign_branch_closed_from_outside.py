"""A promotion whose offer is good at one branch only, and the owner closes that branch after
the campaign was made: before it is sent, and after it went out while members still hold its
button. The shop refuses to make such an offer for a closed branch (the wizard asks again), and
a reward only for closed branches costs nothing; the same must hold when the branch closes
later: no coupon nobody can use, no promotion sent for it, and a true message in the person's
language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from jobs.dispatcher import OutboxDispatcher
from jobs.scheduler import JOBS, tick
from shop.campaigns.stats import compute_stats
from tests.chat import Chat
from tests.domain.campaign_support import campaign_row, launch_now, make_campaign
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.rewards_support import coupon_rows
from tests.unit.staff_support import ensure_branches, member_chat, outbox_rows, staff_chat

ONLY_ASOKE = {"kind": "percent", "value": "20", "branches": ["asoke"]}
START_DUE = [job for job in JOBS if job.id == "campaigns.start_due"]
BOTH = {"kind": "percent", "value": "20", "branches": ["asoke", "ratchada"]}
#: 22:00 in Bangkok, inside the default quiet hours (21:00-09:00), and 09:05 the next morning
NIGHT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
MORNING = datetime(2026, 3, 4, 2, 5, tzinfo=UTC)


class Drained(NamedTuple):
    sent: int
    withdrawn: int
    counted_withdrawn: int
    status: str


async def _shop(app: App) -> tuple[Chat, Chat]:
    await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    chat, _ = await member_chat(app, locale="en")
    return owner, chat


async def test_pressing_a_promotion_whose_only_branch_closed_gives_no_unusable_coupon(
    app: App,
) -> None:
    owner, chat = await _shop(app)
    campaign = await make_campaign(app, offer=ONLY_ASOKE, holdout_pct=0)
    await launch_now(app, campaign.id)
    await owner.press("brn:close:asoke")
    await chat.press(f"cmp:{campaign.id}")
    assert chat.text() == t("en", "tracking.offer_ended"), chat.text()
    assert await coupon_rows(app) == []


async def test_a_promotion_with_one_of_its_branches_still_open_is_claimed(app: App) -> None:
    owner, chat = await _shop(app)
    campaign = await make_campaign(app, offer=BOTH, holdout_pct=0)
    await launch_now(app, campaign.id)
    await owner.press("brn:close:asoke")
    await chat.press(f"cmp:{campaign.id}")
    [coupon] = await coupon_rows(app)
    assert coupon.status == "issued"
    cashier = await staff_chat(app, "c1", "cashier", "ratchada", language_code="en")
    await cashier.say(f"/redeem {coupon.code}")
    assert [c.status for c in await coupon_rows(app)] == ["redeemed"], cashier.text()


async def test_sending_a_draft_whose_offers_only_branch_closed_is_refused(app: App) -> None:
    owner, _ = await _shop(app)
    campaign = await make_campaign(app, offer=ONLY_ASOKE, holdout_pct=0)
    await owner.press("brn:close:asoke")
    await owner.press(f"cmpa:send:{campaign.id}")
    assert "asoke" in owner.text().casefold(), owner.text()
    assert (await campaign_row(app, campaign.id)).status == "draft"
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []


async def test_a_scheduled_campaign_whose_offers_only_branch_closed_does_not_go_out(
    app: App, clock: FrozenClock
) -> None:
    owner, _ = await _shop(app)
    at = clock.now() + timedelta(hours=2)
    campaign = await make_campaign(
        app, offer=ONLY_ASOKE, holdout_pct=0, status="scheduled", scheduled_at=at
    )
    await owner.press("brn:close:asoke")
    clock.advance(timedelta(hours=3))
    await tick(app, START_DUE)
    assert (await campaign_row(app, campaign.id)).status != "sending"
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []


async def _held_overnight(app: App, clock: FrozenClock, offer: dict[str, object]) -> Drained:
    """A promotion launched at 22:00 (held by the quiet hours), the owner closing Asoke before
    the morning, and the morning's drain: what reached the member."""
    clock.set(NIGHT)
    owner, _ = await _shop(app)
    campaign = await make_campaign(app, offer=offer, holdout_pct=0)
    await launch_now(app, campaign.id)
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    assert (await dispatcher.drain_once()).sent == 0  # held by the quiet hours
    await owner.press("brn:close:asoke")
    clock.set(MORNING)
    result = await dispatcher.drain_once()
    to_member = [push for push in telegram.pushes if push.user_id == "m1"]
    async with app.uow() as uow:
        stats = await compute_stats(uow, campaign.id, app.clock.now())
    return Drained(len(to_member), result.withdrawn, stats.recipients.withdrawn, stats.status)


async def test_a_promotion_queued_before_its_only_branch_closed_is_withdrawn_unsent(
    app: App, clock: FrozenClock
) -> None:
    """It went out in the morning, for an offer no branch could honour any more."""
    drained = await _held_overnight(app, clock, ONLY_ASOKE)
    assert drained == Drained(sent=0, withdrawn=1, counted_withdrawn=1, status="sent")


async def test_a_promotion_with_a_branch_still_open_goes_in_the_morning(
    app: App, clock: FrozenClock
) -> None:
    drained = await _held_overnight(app, clock, BOTH)
    assert (drained.sent, drained.withdrawn) == (1, 0)
