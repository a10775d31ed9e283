"""The access log's lines, word for word: what each request writes, and the text format's
date and time as ``logging.Formatter`` writes them."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.admin.access_log import RedactingAccessLogger, redacted
from bot.logging_context import TEXT_FORMAT, ContextFilter, bind_event, formatter


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("text"))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("test.access.line")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


@pytest.mark.parametrize(
    ("method", "path", "status", "shown"),
    [
        ("POST", "/webhook/telegram", 200, "/webhook/telegram"),
        ("POST", "/webhook/line?x=1", 401, "/webhook/line"),
        ("GET", "/admin/signin/Abc-123_tok", 302, "/admin/signin/…"),
        ("GET", "/admin/signin/tok/more", 404, "/admin/signin/…/more"),
        ("GET", "/admin/signin/", 404, "/admin/signin/"),
        ("GET", "/admin/signin", 404, "/admin/signin"),
        ("GET", "/media/tok-1/card.png?k=tok-1", 200, "/media/…/card.png"),
        ("GET", "/mediafile/tok", 404, "/mediafile/tok"),
        ("GET", "/admin/members", 200, "/admin/members"),
    ],
)
def test_a_request_writes_one_line(
    written: tuple[logging.Logger, io.StringIO], method: str, path: str, status: int, shown: str
) -> None:
    logger, stream = written
    bind_event("telegram", "tg:1")
    request = make_mocked_request(method, path)
    RedactingAccessLogger(logger, "").log(request, web.Response(status=status, text="ok"), 0.0125)
    line = stream.getvalue()
    expected = f'{STAMP} INFO test.access.line: None "{method} {shown}" {status} 0 0.013s\n'
    assert re.fullmatch(expected, line), line


def test_redaction_is_the_patterns() -> None:
    pattern = re.compile(r"^(/admin/signin/|/media/)[^/]+")
    for path in ("/", "", "/webhook/line", "/admin/signin/x", "/media/a/b", "/media/", "/medi"):
        assert redacted(path) == pattern.sub(r"\1…", path)


def _record(created: float) -> logging.LogRecord:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "m %s", ("a",), None)
    record.created = created
    record.msecs = (created - int(created)) * 1000
    return record


def test_the_text_format_is_the_standard_one() -> None:
    ours, standard = formatter("text"), logging.Formatter(TEXT_FORMAT)
    start = time.time()
    for created in (
        start,
        start + 0.001,
        start + 0.999,
        int(start) + 1.0,
        int(start) + 1.5,
        0.25,
        1_700_000_000.5,
        1_700_000_000.75,
        2_000_000_000.0,
        start,
    ):
        record = _record(created)
        assert ours.format(record) == standard.format(record)


def test_a_seconds_records_write_its_date_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = formatter("text")
    calls: list[str] = []
    real = time.strftime

    def strftime(fmt: str, *args: time.struct_time) -> str:
        calls.append(fmt)
        return real(fmt, *args)

    monkeypatch.setattr(time, "strftime", strftime)
    second = int(time.time())
    for step in range(200):
        ours.format(_record(second + step / 100))  # two seconds
    assert len(calls) == 2
