"""A process that stops right after it started its scheduler (``chatcrm chat`` with its input
already ended: ``echo /help | chatcrm chat``) prints no traceback: the ticks the scheduler
had just started are cancelled before their first step, which is no error (their periods run
again next time), not "Error running job" with a CancelledError."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.bootstrap import App
from jobs.scheduler import running


async def test_stopping_right_after_the_start_logs_no_error(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(app):
        pass
    for _ in range(20):  # the scheduler's start-up and shut-down run in the loop after the block
        await asyncio.sleep(0.01)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


async def test_stopping_while_ticks_run_logs_no_error(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(app):
        await asyncio.sleep(0)  # the start-up has run: its ticks are created, not yet stepped
    for _ in range(20):
        await asyncio.sleep(0.01)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


async def test_a_tick_stopped_before_it_began_is_said_at_info(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(app):
        pass
    for _ in range(20):
        await asyncio.sleep(0.01)
    said = [record.getMessage() for record in caplog.records if record.name == "jobs.scheduler"]
    assert (
        "job scheduler.forget_old_runs stopped before it began; its period will run again" in said
    )
