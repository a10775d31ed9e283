"""Log formats that carry the event's ids, and the job-run counter of the scheduler."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from bot import metrics
from bot.bootstrap import App
from bot.logging_context import (
    DETAIL_HIDDEN,
    ContextFilter,
    JsonFormatter,
    KeyValueFormatter,
    bind_event,
    configure,
    formatter,
)
from bot.logging_context import bind_member as bind_member_id
from jobs.periods import PeriodicJob, every_minutes
from jobs.scheduler import tick_job


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, (), None)
    ContextFilter().filter(record)
    return record


def test_json_log_line_carries_the_bound_ids() -> None:
    bind_event("line", "Uevent-1")
    bind_member_id(7)

    line = json.loads(JsonFormatter().format(_record("handled")))

    assert (line["channel"], line["event_id"], line["member_id"]) == ("line", "Uevent-1", 7)
    assert line["msg"] == "handled"


def test_kv_log_line_quotes_values_with_spaces_and_leaves_out_unknown_ids() -> None:
    bind_event("telegram", "tg:9")  # a new event forgets the previous member

    line = KeyValueFormatter().format(_record("a b"))

    assert "channel=telegram event_id=tg:9" in line
    assert 'msg="a b"' in line
    assert "member_id" not in line


async def _ok(app: App, period: object) -> dict[str, int]:
    return {"done": 1}


async def _broken(app: App, period: object) -> dict[str, int]:
    raise RuntimeError("boom")


async def test_job_runs_are_counted_by_job_and_result(app: App) -> None:
    good = PeriodicJob("observability.good", every_minutes(15), _ok)
    bad = PeriodicJob("observability.bad", every_minutes(15), _broken)

    assert await tick_job(app, good)
    assert not await tick_job(app, good)  # the same period again: not run, not counted
    assert not await tick_job(app, bad)

    assert metrics.sample("chatcrm_job_runs_total", {"job": good.id, "result": "ran"}) == 1
    assert metrics.sample("chatcrm_job_runs_total", {"job": bad.id, "result": "failed"}) == 1


def test_configured_json_logs_go_to_stderr_and_leave_other_handlers_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    # earlier tests may have left plain stderr handlers, which configure() replaces on
    # purpose; a handler of another kind (a test runner's, a log shipper's) must stay
    others = [logging.NullHandler()]
    root.handlers[:] = [handler for handler in before if type(handler) is not logging.StreamHandler]
    root.addHandler(others[0])
    level = root.level
    try:
        configure(logging.INFO, "json")
        bind_event("telegram", "tg:77")
        logging.getLogger("bot.test").info("served")
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert (line["msg"], line["event_id"]) == ("served", "tg:77")
        assert all(handler in root.handlers for handler in others)
    finally:
        root.handlers[:] = before
        root.setLevel(level)


def test_a_database_errors_detail_is_not_logged_in_any_format() -> None:
    """PostgreSQL's DETAIL quotes the refused row (a value may span lines); the error's kind,
    its statement and the rest of the traceback stay."""
    statement = "[SQL: INSERT INTO inbox (text) VALUES ($1)]"
    detail = "DETAIL:  Failing row contains (7, my home is 99/1\n\nSoi Thonglor, +66891112233)."
    try:
        try:
            raise ValueError(f'new row for relation "inbox" violates check constraint\n{detail}')
        except ValueError as error:
            raise RuntimeError(f"(IntegrityError) {error}\n{statement}") from error
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    for fmt in ("text", "kv", "json"):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter(fmt))  # type: ignore[arg-type]
        handler.handle(record)
        written = stream.getvalue()
        assert "Thonglor" not in written, (fmt, written)
        assert "+66891112233" not in written, (fmt, written)
        assert "violates check constraint" in written
        assert statement in written
        assert "The above exception" in written
        assert DETAIL_HIDDEN in written
