"""Birthday greetings with a coupon valid for the birthday month.

Decisions:

- The member's day is the shop's day (``CHATCRM_TIMEZONE``): at 00:30 in Bangkok on 5 March a
  member born on 5 March is due, although UTC still says 4 March.
- The greeting goes out from ``hour`` (default 10:00 shop time), ``days_before`` days before the
  birthday (default 0: on the day). A birthday on 29 February is celebrated on 28 February in
  years without a 29th. /settings refuses an hour that the quiet hours would hold until the
  next day (22:00 under 21:00-09:00), and quiet hours that would hold the set hour so: the
  greeting reaches the member on the day (a morning hour inside them waits until they end).
- One campaign per birthday *month* (``automation:birthday`` + ``2026-03``): its offer is the
  birthday coupon valid for that month, claimed with the ``cmp:<id>`` button like any campaign.
  A member is greeted once per year: left out when already in any birthday campaign of the
  same year (a birthday edited to a later month does not bring a second coupon).
- Catch-up: a run also covers the ``CATCH_UP_DAYS`` days before today
  (:func:`jobs.automations.common.due_days`), so a process that was down on someone's
  birthday greets them when it is back (late, but once). A birthday that had already ended
  (shop day) when the member joined is not caught up: it waits for next year, so typing
  yesterday's date at sign-up brings no coupon at once. A late greeting
  after the birthday month has ended goes into the month of the greeting, with its coupon
  (:func:`shop.automations.greeting_month`): a coupon that expired before it was sent is no
  gift. So a 31 December birthday can be greeted in January's campaign: one of its own
  (``2027-01/2026``), counted for the birthday's year, so it is not the next year's greeting,
  while a January birthday's greeting (``2027-01``) is that year's, wherever the member moves
  their birthday afterwards.
- Promotional: ``/stop``, no consent, caps and quiet hours apply (``eligibility``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Final

from jobs.app import App
from jobs.automations.common import (
    automation_config,
    due_days,
    enrol,
    gift_of,
    kind_of,
    own_words,
    period_campaign,
    shop_day,
)
from shop.automations import greeting_month
from wording.automations import automation_offer, birthday_greeting, birthday_template

NAME: Final = "birthday"


async def run_birthday(app: App) -> dict[str, int]:
    """Greet today's (and the missed days') birthday members once per year; one transaction.

    Idempotent: a second run, or a run in another process, adds nobody twice (the audience
    query leaves out members already greeted this year; inserts are insert-once).
    """
    now, tz = app.clock.now(), app.settings.tz
    totals: dict[str, int] = {}
    async with app.uow() as uow:
        config = await automation_config(uow, NAME)
        if not config["enabled"]:
            return {"disabled": 1}
        ahead = timedelta(days=int(config["days_before"]))
        words = await own_words(uow, config, shop=app.settings.shop_name, now=now, tz=tz)
        for greeting_day in due_days(now, tz, int(config["hour"])):
            day = greeting_day + ahead
            # a birthday that had ended when the member joined is not caught up
            ended = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
            due = uow.audiences.born_on(day, kind_of(NAME), ended)
            if not await uow.audiences.any(due):
                continue
            month = greeting_month(day, shop_day(now, tz))
            offer = automation_offer(NAME, month, gift_of(config, NAME))
            assert offer.valid_until is not None
            # a greeting of an earlier year's birthday counts for that year
            late = f"/{day.year}" if day.year < month.year else ""
            campaign = await period_campaign(
                uow,
                NAME,
                f"{month.year}-{month.month:02d}{late}",
                now,
                message=birthday_template(words.text("th")),
                holdout_pct=int(config["holdout_pct"]),
                offer=offer.to_json(),
            )
            counts = await enrol(
                uow,
                campaign,
                due,
                now=now,
                tz=tz,
                promotional=True,
                render=birthday_greeting(campaign.id, offer.valid_until, offer, words),
                words=words,
            )
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        await uow.commit()
    return totals
