"""``chatcrm status``: channels on, outbox depth per channel, the leader, the last job runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.cli import main
from jobs.scheduler import JOBS
from jobs.status import read_status, run_now
from storage.leader_lock import LeaderLock, current_leader, leader_name
from storage.repositories.outbox_reads import ChannelDepth
from tests.unit.test_cli import clean_environment  # noqa: F401  (autouse: empty folder, own db)


async def _queue(app: App, key: str, channel: str, delay: timedelta = timedelta(0)) -> int:
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.outbox.enqueue(key, channel, "u1", {}, now, not_before=now + delay)
        row = await uow.outbox.by_key(key)
        await uow.commit()
    assert row is not None
    return row.id


async def test_the_outbox_depth_splits_due_deferred_and_failed_per_channel(app: App) -> None:
    await _queue(app, "a", "telegram")
    await _queue(app, "b", "telegram", timedelta(hours=8))  # quiet hours
    failed = await _queue(app, "c", "telegram")
    sent = await _queue(app, "d", "line")
    await _queue(app, "e", "line")
    async with app.uow() as uow:
        await uow.outbox.mark_failed(failed, "400 chat not found")
        await uow.outbox.mark_sent(sent, app.clock.now())
        await uow.commit()

    status = await read_status(app, JOBS)

    assert status.outbox == [ChannelDepth("line", 1, 0, 0), ChannelDepth("telegram", 1, 1, 1)]


async def test_status_shows_the_configured_channels_and_the_last_job_runs(app: App) -> None:
    app.settings = app.settings.model_copy(update={"telegram_bot_token": "123:abc"})
    winback = next(job for job in JOBS if job.id == "automations.winback")
    await run_now(app, winback)

    status = await read_status(app, JOBS)

    assert status.channels == {"line": False, "telegram": True}
    jobs = {job.id: job for job in status.jobs}
    assert set(jobs) == {job.id for job in JOBS}
    assert jobs["automations.winback"].last_period == "2026-03-03"
    assert jobs["automations.digest"].last_period is None


async def test_the_leader_is_named_while_it_holds_the_lock(app: App) -> None:
    status = await read_status(app, JOBS)
    if app.engine.dialect.name != "postgresql":
        assert not status.leader.elected  # SQLite: one process, no election
        return
    assert status.leader.elected
    assert status.leader.holder is None  # no serve process leads
    lock = await LeaderLock.try_acquire(app.engine)
    assert lock is not None
    try:
        holder = await current_leader(app.engine)
        assert holder is not None
        assert holder.name == leader_name()
        assert (await read_status(app, JOBS)).leader.holder == holder
    finally:
        await lock.release()
    assert await current_leader(app.engine) is None


def test_chatcrm_status_prints_every_part(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "s")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
    assert main(["db", "upgrade"]) == 0  # status reads a shop, never makes one
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "channels on: line (not connected: telegram)" in out
    assert "outbox (due now / deferred / failed):\n  empty" in out
    assert "leader: no election on SQLite" in out
    for job in JOBS:
        assert job.id in out


def test_chatcrm_status_json_has_what_healthz_adds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"channels", "outbox", "leader", "jobs"}
    assert shown["channels"] == {"line": False, "telegram": False}


@pytest.mark.parametrize("argv", [["status"], ["jobs", "list"], ["db", "upgrade"]])
def test_a_database_server_that_does_not_answer_is_one_clear_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # port 1 on this machine: nothing listens, the connection is refused at once
    url = "postgresql+asyncpg://chatcrm:hunter2@127.0.0.1:1/shop"
    monkeypatch.setenv("CHATCRM_DATABASE_URL", url)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the database does not answer (postgresql+asyncpg://chatcrm:***@127.0.0.1:1/shop)" in err
    assert "hunter2" not in err
    assert "Traceback" not in err
