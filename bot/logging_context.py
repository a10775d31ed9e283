"""Structured logs: every record carries the channel, event id and member id being handled.

The bus calls :func:`bind_event` when it starts on an event and :func:`bind_member` once it
knows the member; the values live in context variables, so each webhook request (its own
asyncio task) sees only its own event. :class:`ContextFilter` copies them onto every record
(``record.channel``, ``record.event_id``, ``record.member_id``; ``None`` outside an event), and
:func:`configure` installs it with a ``json`` or ``kv`` (key=value) formatter for ``serve``
(``CHATCRM_LOG_FORMAT``), or the plain text format everywhere else.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, Literal, TextIO

LogFormat = Literal["text", "kv", "json"]

_channel: ContextVar[str | None] = ContextVar("chatcrm_channel", default=None)
_event_id: ContextVar[str | None] = ContextVar("chatcrm_event_id", default=None)
_member_id: ContextVar[int | None] = ContextVar("chatcrm_member_id", default=None)

FIELDS: Final = ("channel", "event_id", "member_id")
_BOUND: Final = (("channel", _channel), ("event_id", _event_id), ("member_id", _member_id))
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: alembic's lines at every start that tell an operator nothing (its plugins set up, the
#: migration context's implementation and DDL mode); "Running upgrade …" lines stay
_ALEMBIC_CHATTER: Final = ("setup plugin", "Context impl", "Will assume")


class _AlembicChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_ALEMBIC_CHATTER)


_QUIET_ALEMBIC: Final = _AlembicChatter()


def bind_event(channel: str, event_id: str | None) -> None:
    """Set the event being handled (and forget the previous member) for this task's logs.

    Not reset when the bus returns, on purpose: the adapter logs the delivery of the replies
    after that, and those lines belong to the same event. The next event overwrites all three.
    """
    _channel.set(channel)
    _event_id.set(event_id)
    _member_id.set(None)


def bind_member(member_id: int | None) -> None:
    _member_id.set(member_id)


def bound_member() -> int | None:
    """The member bound in this task (:func:`bind_member`), if any."""
    return _member_id.get()


def current() -> dict[str, object]:
    """The ids bound in this task (``None`` for the ones not known)."""
    return {"channel": _channel.get(), "event_id": _event_id.get(), "member_id": _member_id.get()}


class ContextFilter(logging.Filter):
    """Adds ``channel``, ``event_id`` and ``member_id`` to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, bound in _BOUND:
            if not hasattr(record, name):  # an explicit ``extra=`` wins
                setattr(record, name, bound.get())
        return True


#: PostgreSQL's DETAIL of an error quotes the row's values ("Key (phone)=(+66…) already
#: exists", "Failing row contains (…)"): a member's data that a log would keep past their
#: erasure. It runs to the next part of the error SQLAlchemy or a traceback writes (a value
#: may hold line breaks) and is written without them.
_DETAIL: Final = re.compile(
    r"^DETAIL:  .*?"
    r"(?=\n+(?:\[SQL: |HINT:  |\(Background on |The above exception|During handling)|\Z)",
    re.MULTILINE | re.DOTALL,
)
DETAIL_HIDDEN: Final = "DETAIL:  (not logged: it may quote a member's data)"


class _ValuesHidden(logging.Formatter):
    """Writes an exception without the values a database error's DETAIL quotes."""

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return _DETAIL.sub(DETAIL_HIDDEN, text) if "DETAIL:  " in text else text

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:
            record.exc_text = None  # another handler's copy may hold the values: written anew
        return super().format(record)


class TextFormatter(_ValuesHidden):
    """:data:`TEXT_FORMAT` as ``logging.Formatter`` writes it, the date and time of a second
    written once for all the records of that second (a busy server logs many: one access line
    per request)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second, written = self._second
        if int(record.created) != second:  # a tuple: one record's pair is never torn
            second = int(record.created)
            written = time.strftime(self.default_time_format, self.converter(second))
            self._second = (second, written)
        if self.default_msec_format:
            return self.default_msec_format % (written, record.msecs)
        return written


class KeyValueFormatter(_ValuesHidden):
    """``ts=… level=INFO logger=… channel=telegram event_id=tg:1 member_id=7 msg="…"``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            **{name: getattr(record, name, None) for name in FIELDS},
            "msg": record.getMessage(),
        }
        text = " ".join(f"{key}={_kv_value(value)}" for key, value in parts.items() if value)
        if record.exc_info:
            text += " exc=" + json.dumps(self.formatException(record.exc_info))
        return text


class JsonFormatter(_ValuesHidden):
    """One JSON object per line; ids that are not known are left out."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "kv":
        return KeyValueFormatter()
    return TextFormatter()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record (it may be replaced)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr


def configure(level: int, fmt: LogFormat = "text") -> None:
    """Log to stderr at ``level`` in ``fmt``, every record carrying the event's ids.

    Replaces the plain stderr handler ``logging.basicConfig`` installed (and one installed
    here before); other handlers on the root logger (a test runner's) are left alone.
    """
    handler = _StderrHandler()
    handler.setFormatter(formatter(fmt))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) in (logging.StreamHandler, _StderrHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(name).addFilter(_QUIET_ALEMBIC)  # the same filter is added once


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _kv_value(value: object) -> str:
    text = str(value)
    if not text or any(char in text for char in ' "=\n'):
        return json.dumps(text, ensure_ascii=False)
    return text
