"""Answers the inbox, staff and settings pages share: a refusal, a redirect after a change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlencode

from aiohttp import web

from bot.admin.keys import VIEWER
from bot.admin.render import page
from bot.channels.text import clean
from shop.console import Viewer

#: what a change's redirect may announce (``?done=…``): a word, never personal data
DONE_WORDS: Final = frozenset(
    {
        "sent",
        "closed",
        "unreachable",
        "not_queued",
        "empty",
        "saved",
        "revoked",
        "removed",
        "invited",
    }
)


def refused(request: web.Request, status: int, message_key: str) -> web.Response:
    viewer = request[VIEWER]
    return page(
        request,
        viewer,
        viewer.locale,
        "message.html",
        status=status,
        title_key="admin.console",
        message_key=message_key,
    )


def not_found(request: web.Request) -> web.Response:
    """The same answer for what does not exist and what is not the viewer's (no probing)."""
    return refused(request, 404, "admin.not_found")


def forbidden(request: web.Request) -> web.Response:
    return refused(request, 403, "admin.forbidden")


def is_owner(viewer: Viewer) -> bool:
    return viewer.role == "owner"


def done(location: str, word: str) -> web.Response:
    """After a change, 303 to its page (a reload does not send the form again)."""
    assert word in DONE_WORDS
    return web.Response(status=303, headers={"Location": f"{location}?{urlencode({'done': word})}"})


def done_word(request: web.Request) -> str | None:
    word = request.query.get("done")
    return word if word in DONE_WORDS else None


def form_text(form: Mapping[str, object], name: str, limit: int = 2000) -> str:
    """A form field as text (missing or a file: empty), cut at ``limit`` characters.

    Cleaned as the chat's adapters clean what they receive (:func:`bot.channels.text.clean`):
    a NUL pasted into a form would be stored raw on SQLite and refused by PostgreSQL. Every
    console form is read through here."""
    value = form.get(name)
    return clean(value)[:limit] if isinstance(value, str) else ""
