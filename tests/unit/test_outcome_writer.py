"""The dispatcher's group commit: outcomes that arrive together are stored in one transaction,
each worker learns its own rows' outcomes, and the campaign hook still hears them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import update

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs.campaign_delivery import OutcomeHook, outcome_hook
from jobs.delivery_plan import Delivery
from jobs.outcome_writer import OutcomeWriter
from storage.models import OutboxMessage
from storage.raw_session import session_of
from storage.uow import UnitOfWork
from tests.storage.outbox_support import campaign_status, queue, sending_campaign


class CountingUow:
    """The app's unit-of-work factory, counting the transactions opened."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.app.uow()


async def claimed(app: App, *keys: str) -> list[Any]:
    async with app.uow() as uow:
        for key in keys:
            payload = replies_to_payload([Reply(text=key)])
            await uow.outbox.enqueue(
                key, "line", f"U{key}", payload, app.clock.now(), promotional=True
            )
        await uow.commit()
        rows = await uow.outbox.claim(app.clock.now(), 100, app.clock.now(), ["line"])
        await uow.commit()
    return sorted(rows, key=lambda row: row.dedupe_key)


async def status(app: App, key: str) -> str:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row.status


def no_hook() -> OutcomeHook:
    async def hook(uow: UnitOfWork, key: str, outcome: str, now: datetime) -> None:
        return None

    return hook


async def test_outcomes_arriving_together_are_committed_in_one_transaction(app: App) -> None:
    rows = await claimed(app, "a", "b", "c")
    factory = CountingUow(app)
    writer = OutcomeWriter(factory, app.clock.now, no_hook, "th")  # type: ignore[arg-type]
    results = await asyncio.gather(*(writer.write(Delivery((row,)), "sent") for row in rows))
    assert results == [["sent"], ["sent"], ["sent"]]
    assert factory.opened == 1
    assert [await status(app, key) for key in ("a", "b", "c")] == ["sent"] * 3


async def test_a_row_no_longer_pending_is_reported_withdrawn_and_stays_cancelled(
    app: App,
) -> None:
    first, second = await claimed(app, "kept", "withdrawn")
    async with app.uow() as uow:
        # withdrawn while the request was in flight (e.g. the campaign was cancelled)
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.id == second.id).values(status="cancelled")
        )
        await uow.commit()
    writer = OutcomeWriter(app.uow, app.clock.now, no_hook, "th")
    assert await writer.write(Delivery((first, second), multicast=True), "sent") == [
        "sent",
        "withdrawn",
    ]
    assert await status(app, "withdrawn") == "cancelled"


async def test_a_multicast_of_one_campaign_calls_the_campaign_hook_once(app: App) -> None:
    rows = await claimed(app, "cmp:3:1", "cmp:3:2", "cmp:3:3")
    heard: list[tuple[str, str]] = []

    async def hook(uow: UnitOfWork, key: str, outcome: str, now: datetime) -> None:
        row = await uow.outbox.by_key(key)
        assert row is not None
        assert row.status == "sent"  # the hook runs after the rows are stored
        heard.append((key[:6], outcome))

    writer = OutcomeWriter(app.uow, app.clock.now, lambda: hook, "th")
    await writer.write(Delivery(tuple(rows), multicast=True), "sent")
    assert heard == [("cmp:3:", "sent")]
    assert [await status(app, row.dedupe_key) for row in rows] == ["sent"] * 3


def test_the_sent_rows_campaigns_are_read_as_campaign_of_reads_each_key() -> None:
    from jobs.campaign_delivery import campaign_of
    from jobs.outcome_writer import _sent
    from storage.repositories.outbox import QueuedMessage

    keys = ["cmp:7:1", "cmp:7:2", "cmp:8", "cmp:x:1", "cmp:9:1:2", "cmp:9:1:3", "cmp:10:3"]
    keys += ["receipt:1", "cmp", "", "cmp:11:4"]
    rows = [
        QueuedMessage(n, "line", f"U{n}", None, {}, 0, None, n != 10, key)
        for n, key in enumerate(keys)
    ]
    marked = {row.id for row in rows} - {6}  # cmp:10:3 was withdrawn meanwhile
    finished: dict[int, str] = {}
    names = _sent(rows, marked, finished)
    expected: dict[int, str] = {}
    for row in rows:
        if row.id in marked and row.promotional and (c := campaign_of(row.dedupe_key)) is not None:
            expected[c] = row.dedupe_key
    assert finished == expected == {7: "cmp:7:2", 8: "cmp:8", 9: "cmp:9:1:3"}
    assert list(finished) == [7, 8, 9]
    assert names == ["sent"] * 6 + ["withdrawn"] + ["sent"] * 4


def test_an_accepted_group_s_campaigns_are_those_campaign_of_reads() -> None:
    from jobs.campaign_delivery import campaign_of
    from jobs.outcome_writer import _campaigns
    from storage.repositories.outbox import QueuedMessage

    keys = ["cmp:7:1", "cmp:7:2", "cmp:8", "cmp:x:1", "cmp:9:1:2", "cmp:9:1:3", "cmp:10:3"]
    keys += ["receipt:1", "cmp", "", "cmp:11:4", "cmp:7"]
    rows = [
        QueuedMessage(n, "line", f"U{n}", None, {}, 0, None, n != 10, key)
        for n, key in enumerate(keys)
    ]
    found = _campaigns(rows)
    assert sorted(campaign_of(key) or 0 for key in found) == [7, 8, 9, 10]
    assert set(found) <= {*keys[:7], "cmp:7"}


async def test_accepted_multicasts_with_the_tracking_hook_mark_and_finish_their_campaign(
    app: App,
) -> None:
    done, going = await sending_campaign(app), await sending_campaign(app)
    rows = await claimed(app, f"cmp:{done}:1", f"cmp:{done}:2", f"cmp:{going}:1")
    await queue(app, f"cmp:{going}:2", channel="line")  # still to send: the campaign goes on
    async with app.uow() as uow:
        # withdrawn while the request was in flight (the member sent /stop)
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.id == rows[1].id).values(status="cancelled")
        )
        await uow.commit()
    writer = OutcomeWriter(app.uow, app.clock.now, outcome_hook, "th")
    results = await asyncio.gather(
        writer.write(Delivery(tuple(rows[:2]), multicast=True), "sent"),
        writer.write(Delivery((rows[2],)), "sent"),
    )
    assert results == [["sent", "withdrawn"], ["sent"]]
    assert [await status(app, row.dedupe_key) for row in rows] == ["sent", "cancelled", "sent"]
    assert (await campaign_status(app, done), await campaign_status(app, going)) == (
        "sent",
        "sending",
    )


async def test_a_campaign_whose_accepted_rows_were_all_withdrawn_finishes_as_on_withdrawal(
    app: App,
) -> None:
    campaign = await sending_campaign(app)
    (row,) = await claimed(app, f"cmp:{campaign}:1")
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(status="cancelled")
        )
        await uow.commit()
    writer = OutcomeWriter(app.uow, app.clock.now, outcome_hook, "th")
    assert await writer.write(Delivery((row,)), "sent") == ["withdrawn"]
    assert await campaign_status(app, campaign) == "sent"  # nothing of it is pending
