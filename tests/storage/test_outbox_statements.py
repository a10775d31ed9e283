"""The dispatcher's statements built once and reused (``outbox_statements``, ``finish_if_done``):
each execution takes its own values, never those of the first."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from tests.storage.outbox_support import campaign_status, queue, sending_campaign

LEASE = timedelta(minutes=5)


async def _ids(app: App, *keys: str) -> list[int]:
    async with app.uow() as uow:
        rows = [await uow.outbox.by_key(key) for key in keys]
    return [row.id for row in rows if row is not None]


async def test_a_reused_claim_takes_each_call_s_time_limit_and_lease(
    app: App, clock: FrozenClock
) -> None:
    for key in ("a", "b", "c"):
        await queue(app, key)
    now = clock.now()
    async with app.uow() as uow:
        early = await uow.outbox.claim(now - timedelta(seconds=1), 10, now + LEASE, ["telegram"])
        one = await uow.outbox.claim(now, 1, now + LEASE, ["telegram"])
        rest = await uow.outbox.claim(now, 10, now + 2 * LEASE, ["telegram"])
        again = await uow.outbox.claim(now + LEASE, 10, now + 3 * LEASE, ["telegram"])
        await uow.commit()
    assert early == []
    assert [m.dedupe_key for m in one] == ["a"]
    assert [m.dedupe_key for m in rest] == ["b", "c"]
    # at the first lease's end only "a" is due again: each claim leased to its own time
    assert [m.dedupe_key for m in again] == ["a"]


async def test_a_reused_claim_still_scopes_a_channel_to_its_recipients(app: App) -> None:
    await queue(app, "to-1", user_id="1")
    await queue(app, "to-2", user_id="2")
    now = app.clock.now()
    async with app.uow() as uow:
        scoped = await uow.outbox.claim(now, 10, now + LEASE, ["telegram"], {"telegram": ["2"]})
        whole = await uow.outbox.claim(now, 10, now + LEASE, ["telegram"])
        await uow.commit()
    assert [m.dedupe_key for m in scoped] == ["to-2"]
    assert [m.dedupe_key for m in whole] == ["to-1"]


async def test_a_reused_mark_sent_marks_each_call_s_rows_at_its_time(
    app: App, clock: FrozenClock
) -> None:
    for key in ("a", "b", "c"):
        await queue(app, key)
    a, b, c = await _ids(app, "a", "b", "c")
    first, later = clock.now(), clock.now() + timedelta(seconds=7)
    async with app.uow() as uow:
        marked = await uow.outbox.mark_all_sent([a, b], first)
        marked_again = await uow.outbox.mark_all_sent([a, b, c], later)
        await uow.commit()
    assert (marked, marked_again) == ({a, b}, {c})
    async with app.uow() as uow:
        rows = [await uow.outbox.get(row_id) for row_id in (a, b, c)]
    assert [(r.status, r.sent_at, r.attempts) for r in rows if r is not None] == [
        ("sent", first, 1),
        ("sent", first, 1),
        ("sent", later, 1),
    ]


async def test_finish_if_done_reads_each_campaign_s_own_rows(app: App) -> None:
    first = await sending_campaign(app)
    for _ in range(9):  # the tenth campaign's id starts with the first's
        tenth = await sending_campaign(app)
    assert str(tenth).startswith(str(first))
    await queue(app, f"cmp:{tenth}:5")
    now = app.clock.now()
    async with app.uow() as uow:
        tenth_done = await uow.promotions.finish_if_done(tenth, now)
        first_done = await uow.promotions.finish_if_done(first, now)
        await uow.commit()
    assert (tenth_done, first_done) == (False, True)


async def test_a_finish_sent_with_the_next_statement_is_undone_with_its_transaction(
    app: App,
) -> None:
    campaign = await sending_campaign(app)
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.promotions.finish_when_done(campaign, now)
    assert await campaign_status(app, campaign) == "sending"
    async with app.uow() as uow:
        await uow.promotions.finish_when_done(campaign, now)
        await uow.commit()
    assert await campaign_status(app, campaign) == "sent"


async def test_a_lease_sent_with_the_commit_is_undone_with_its_transaction(app: App) -> None:
    await queue(app, "a")
    now = app.clock.now()
    async with app.uow() as uow:
        assert [m.dedupe_key for m in await uow.outbox.claim(now, 10, now + LEASE, ["telegram"])]
    async with app.uow() as uow:
        again = await uow.outbox.claim(now, 10, now + LEASE, ["telegram"])
        await uow.commit()
    assert [m.dedupe_key for m in again] == ["a"]
    async with app.uow() as uow:
        assert await uow.outbox.claim(now, 10, now + LEASE, ["telegram"]) == []
        await uow.commit()
