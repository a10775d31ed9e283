"""Group commit (``handlers/group_commit.py``) as the outside meets it: a member's ``/stop``
and a manager's campaign launch in one batch (either order), and a busy batch of every kind
of common event (free text, ``/sale``, ``/points``, ``/stop``) with one event crashing after
its writes on the driver and the outbox: it alone is undone, every other is answered once and
has its effect once, and the dispatcher sends exactly what was committed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.errors import TransientChannelError
from bot.core.messages import Channel
from bot.core.quota import BoundedQuota
from bot.i18n import t
from handlers.staff import sale_notices
from jobs.dispatcher import OutboxDispatcher
from storage.errors import DriverError
from storage.models import Member
from storage.repositories.inbox import Inbox
from tests.chat import Chat
from tests.domain.campaign_support import make_campaign
from tests.storage.inbox_edges_support import box, text_of
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.sales_support import ledger, queued, sales
from tests.unit.staff_support import ensure_branch, make_staff, member_chat, outbox_rows


def _pushed(telegram: FakeTelegram) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for push in telegram.pushes:
        out.setdefault(push.user_id, []).extend(push.texts)
    return out


async def _drained(app: App) -> dict[str, list[str]]:
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    await dispatcher.drain_once()
    return _pushed(telegram)


async def _two_members(app: App) -> tuple[Chat, Chat, Chat]:
    manager = Chat(app, user_id="boss", language_code="en")
    await make_staff(app, "boss", "manager")
    ploy, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    nok, _ = await member_chat(app, "Nok", "0822222222", user_id="m2")
    return manager, ploy, nok


@pytest.mark.parametrize("stop_first", [True, False], ids=["stop-then-launch", "launch-then-stop"])
async def test_stop_and_a_launch_in_one_batch_send_the_promotion_only_to_the_other(
    app: App, stop_first: bool
) -> None:
    manager, ploy, _ = await _two_members(app)
    campaign = await make_campaign(app, holdout_pct=0)
    await manager.say(f"/campaign send {campaign.id}")
    sends = [lambda: ploy.say("/stop"), lambda: manager.press(f"cmpa:send:{campaign.id}")]
    if not stop_first:
        sends.reverse()
    answers = await asyncio.gather(*(send() for send in sends))
    stopped = answers[0] if stop_first else answers[1]
    assert text_of(stopped) == t("th", "privacy.stopped")
    pushed = await _drained(app)
    assert "m1" not in pushed
    assert len(pushed["m2"]) == 1
    rows = await outbox_rows(app, "cmp:")
    assert {row.user_id for row in rows if row.status == "sent"} == {"m2"}
    assert [row.status for row in rows if row.user_id == "m1"] in ([], ["cancelled"])


async def _busy_shop(app: App) -> tuple[Chat, Chat, Chat, Member]:
    await ensure_branch(app, "asoke")
    await make_staff(app, "own1", "owner")
    await make_staff(app, "c1", "cashier", "asoke")
    cashier = Chat(app, user_id="c1", language_code="en")
    ploy, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    nok, nok_member = await member_chat(app, "Nok", "0822222222", user_id="m2")
    return cashier, ploy, nok, nok_member


async def test_a_crash_in_a_busy_batch_undoes_only_itself_and_the_rest_count_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    cashier, ploy, nok, nok_member = await _busy_shop(app)
    real = sale_notices._confirmation

    def confirmation(ctx: Any, result: Any, *args: Any) -> Any:
        if result.sale.receipt_no == "R-BAD":
            raise RuntimeError("printer down")
        return real(ctx, result, *args)

    monkeypatch.setattr(sale_notices, "_confirmation", confirmation)
    code = nok_member.member_code
    answers = await asyncio.gather(
        ploy.say("สวัสดีค่ะ 🧋"),
        cashier.say(f"/sale {code} 250 receipt=R1"),
        nok.say("/points"),
        cashier.say(f"/sale {code} 1000 receipt=R-BAD"),
        ploy.say("/stop"),
        nok.say("โต๊ะว่างไหม"),
        cashier.say(f"/sale {code} 500 receipt=R2"),
        ploy.say("ขอบคุณ"),
    )
    said = [text_of(a) for a in answers]
    assert said[0] == t("th", "inbox.received")
    assert said[1].startswith("✅")
    assert "balance 10" in said[1]
    assert t("en", "error.internal") == said[3]
    assert said[4] == t("th", "privacy.stopped")
    assert said[5] == t("th", "inbox.received")
    assert said[6].startswith("✅")
    assert "balance 30" in said[6]
    assert said[7] == ""
    assert sorted(s.receipt_no for s in await sales(app)) == ["R1", "R2"]
    assert await ledger(app, nok_member.id) == [(10, "sale"), (20, "sale")]
    found = await box(app)
    assert len(found.threads) == 2
    assert sorted(text for _, _, text in found.messages) == sorted(
        ["สวัสดีค่ะ 🧋", "ขอบคุณ", "โต๊ะว่างไหม"]
    )
    assert len(found.alerts) == 2  # one per new thread, to the one owner
    assert len(await queued(app, "receipt:")) == 2
    pushed = await _drained(app)
    assert sorted(pushed) == ["m2", "own1"]
    assert len(pushed["m2"]) == 2
    assert not any("R-BAD" in text for text in pushed["m2"])
    assert len(pushed["own1"]) == 2


async def test_a_lost_connection_mid_batch_runs_each_text_again_alone_with_one_effect(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies in the middle of a batch of texts (after a thread's INSERT and a
    message's on the driver): nothing of the batch was kept, each text runs again alone, and
    each customer has one thread, one message, one acknowledgement and one staff alert."""
    await make_staff(app, "own1", "owner")
    ploy, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    nok, _ = await member_chat(app, "Nok", "0822222222", user_id="m2")
    real = Inbox.alerts_since
    lost: list[int] = []

    async def alerts_since(self: Inbox, *args: Any) -> int:
        if not lost:
            lost.append(1)
            raise DriverError("SELECT", {}, RuntimeError("gone"), connection_invalidated=True)
        return await real(self, *args)

    monkeypatch.setattr(Inbox, "alerts_since", alerts_since)
    answers = await asyncio.gather(ploy.say("hi from ploy"), nok.say("hi from nok"))
    assert [text_of(a) for a in answers] == [t("th", "inbox.received")] * 2
    found = await box(app)
    assert len(found.threads) == 2
    assert sorted(text for _, _, text in found.messages) == ["hi from nok", "hi from ploy"]
    assert len(found.alerts) == 2
    pushed = await _drained(app)
    assert len(pushed["own1"]) == 2


@pytest.mark.parametrize("arrives", ["with-it", "after-it"])
async def test_a_customers_points_are_answered_while_a_preview_waits_on_line(
    app: App, arrives: str
) -> None:
    """A campaign preview asks LINE's quota inside the bus's transaction, which holds its
    group-commit batch (on SQLite the one runner too): a slow LINE holds it only
    ``BoundedQuota``'s wait. The customer in the same batch (``with-it``) or the next
    (``after-it``) is answered while LINE is still thinking; the preview says the quota is
    unknown (on PostgreSQL, ``after-it``, another runner may answer the customer within
    the wait), and the next preview, LINE answering again, shows it."""
    manager, ploy, _ = await _two_members(app)
    campaign = await make_campaign(app, holdout_pct=0)
    asked, answered, told = asyncio.Event(), asyncio.Event(), asyncio.Event()
    #: whether the customer had been answered when LINE answered
    meanwhile: list[bool] = []

    async def slow_quota() -> tuple[int | None, int]:
        asked.set()
        # LINE is slow: it answers once the customer was answered (or after a long while)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answered.wait(), 30)
        meanwhile.append(answered.is_set())
        told.set()
        return 500, 0

    app.bus.quota_reader = BoundedQuota(slow_quota, wait=0.2)

    async def points() -> None:
        await ploy.say("/points")
        answered.set()

    preview = asyncio.create_task(manager.say(f"/campaign preview {campaign.id}"))
    if arrives == "with-it":
        await asyncio.sleep(0)  # both wait in the queue: one batch
    else:
        await asyncio.wait_for(asked.wait(), 20)  # the preview's batch is asking LINE
    await points()
    await preview
    await asyncio.wait_for(told.wait(), 20)
    assert meanwhile == [True]
    unanswered = t("en", "campaign.quota_unanswered") in text_of(manager.last)
    if arrives == "with-it" or app.engine.dialect.name != "postgresql":
        assert unanswered  # LINE could answer only after the preview's batch committed
    else:  # another runner answered the customer, maybe within the preview's wait
        assert unanswered or "500" in text_of(manager.last)
    await manager.say(f"/campaign preview {campaign.id}")
    assert "500" in text_of(manager.last)
    assert meanwhile == [True, True]


async def test_a_preview_waiting_on_line_asks_it_once() -> None:
    """Previews asking while LINE has not answered wait for the same question; a question
    LINE refused is asked again by the next preview."""
    calls: list[int] = []
    release = asyncio.Event()

    async def quota() -> tuple[int | None, int]:
        calls.append(1)
        await release.wait()
        if len(calls) == 1:
            raise TransientChannelError("LINE 500")
        return 100, 7

    bounded = BoundedQuota(quota, wait=30)
    first = asyncio.create_task(bounded())
    second = asyncio.create_task(bounded())
    await asyncio.sleep(0)
    release.set()
    for task in (first, second):
        with pytest.raises(TransientChannelError):
            await task
    assert await bounded() == (100, 7)
    assert len(calls) == 2
