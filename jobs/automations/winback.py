"""Win-back: a "we miss you" offer for members who have not visited for a while.

Decisions:

- Lapsed: the last non-voided sale is at least ``lapsed_days`` (default 60) shop days old,
  whatever its hour, as the "lapsed" segment counts (``last_visit_days >= 60``): two members
  last seen on the same shop day are won back on the same day. Members who never bought are
  not lapsed (they are "new", another lifecycle group).
- A lapse ends with the next visit: tries are counted over audience rows enrolled after the
  last sale, at most ``max_tries`` (default 2) per lapse; hold-out members count as tried too,
  so both groups are treated alike over time and stay comparable.
- Cooldown: no new try within ``cooldown_days`` (default 90) shop days of the member's last one.
- Only a message sent (or still to send) is a try: an enrolment left out by the contact policy
  (``/stop``, no consent, blocked) or withdrawn before it left is none, so a member who comes
  back with ``/resume`` is won back at the next run.
- A visit withdraws a win-back still waiting (held by the quiet hours, say): it is not sent
  after the member bought (``storage.repositories.withdrawals.unwanted_promotion``).
- One campaign per calendar month (``automation:winback`` + ``2026-03``), so a member is
  enrolled at most once a month whatever the cooldown; the offer (15% off) is valid until the
  end of the following month, so a member enrolled late in the month still has weeks to use it.
- Promotional: the contact policy applies.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from jobs.app import App
from jobs.automations.common import (
    automation_config,
    enrol,
    gift_of,
    kind_of,
    own_words,
    period_campaign,
    shop_day,
)
from wording.automations import automation_offer, winback_offer_message, winback_template

NAME: Final = "winback"


async def run_winback(app: App) -> dict[str, int]:
    """Enrol today's lapsed members in this month's win-back campaign; one transaction,
    idempotent (a member enrolled today is not due again: cooldown and the snapshot)."""
    now, tz = app.clock.now(), app.settings.tz
    async with app.uow() as uow:
        config = await automation_config(uow, NAME)
        if not config["enabled"]:
            return {"disabled": 1}
        today = shop_day(now, tz)
        due = uow.audiences.lapsed(
            _days_before(today, int(config["lapsed_days"]), tz),
            _days_before(today, int(config["cooldown_days"]), tz),
            int(config["max_tries"]),
            kind_of(NAME),
        )
        if not await uow.audiences.any(due):
            return {}
        offer = automation_offer(NAME, today, gift_of(config, NAME))
        words = await own_words(uow, config, shop=app.settings.shop_name, now=now, tz=tz)
        campaign = await period_campaign(
            uow,
            NAME,
            f"{today.year}-{today.month:02d}",
            now,
            message=winback_template(words.text("th")),
            holdout_pct=int(config["holdout_pct"]),
            offer=offer.to_json(),
        )
        assert offer.valid_until is not None
        render = winback_offer_message(campaign.id, offer.valid_until, offer, words)
        counts = await enrol(
            uow, campaign, due, now=now, tz=tz, promotional=True, render=render, words=words
        )
        await uow.commit()
    return dict(counts)


def _days_before(today: date, days: int, tz: ZoneInfo) -> datetime:
    """The shop midnight before which a moment is at least ``days`` shop days before
    ``today`` (yesterday is 1 day, whatever the hour): midnight ``days - 1`` days ago."""
    return datetime.combine(today - timedelta(days=days - 1), time(), tzinfo=tz)


__all__ = ["run_winback"]
