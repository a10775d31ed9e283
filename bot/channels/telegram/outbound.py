"""Channel-neutral :class:`Reply` values → Telegram Bot API calls, and its errors → ChannelError.

Planning (what messages a reply becomes) is pure and separate from sending, so the limits are
testable without a network. A message is sent as the plain request the Bot API reads (JSON,
or a multipart form with its file) through :meth:`BotSession.post
<bot.channels.telegram.session.BotSession.post>`, which maps the errors; :func:`call` maps
them for the calls still made through aiogram's methods (menus, set-up, polling).

Reply text is plain text: it is split first and HTML-escaped after, because Telegram counts the
4096/1024 limits on the text *after* entity parsing, so escaping can never push a part over
the limit.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot import metrics
from bot.channels.telegram.session import TOKEN_SETTING, Files, session_of
from bot.channels.text import split
from bot.core.capabilities import TELEGRAM_CAPABILITIES
from bot.core.errors import (
    ChannelError,
    CredentialsRejected,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)
from bot.core.messages import Button, ButtonKind, MemberCardView, Reply
from bot.core.ports import NextTurn
from bot.core.resume import marked, sent_before

T = TypeVar("T")

TEXT_LIMIT: Final = TELEGRAM_CAPABILITIES.text_max
CAPTION_LIMIT: Final = 1024
#: labels up to this length sit two per row; longer ones get a row each so they are not cut
SHORT_LABEL: Final = 12
PHOTO_TYPES: Final = frozenset({"image/png", "image/jpeg"})
#: text of the second message that carries inline buttons when the first shows the contact
#: keyboard (a message has one keyboard); language-neutral, so no locale is needed here
POINTER: Final = "👇"

#: a ``reply_markup`` as the Bot API reads it (an inline keyboard, a contact keyboard, or
#: :data:`REMOVE_KEYBOARD`)
Markup = dict[str, Any]
REMOVE_KEYBOARD: Final[Markup] = {"remove_keyboard": True}


class Kind(enum.Enum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Upload:
    """A file sent with a message."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """One Bot API message: ``html`` is already escaped (text, or caption of a file)."""

    kind: Kind
    html: str
    markup: Markup | None = None
    file: Upload | None = None


def utf16_len(text: str) -> int:
    """Length as Telegram measures it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of ``text`` of at most ``limit`` UTF-16 units, broken at line ends when possible
    and never inside a grapheme (see :func:`bot.channels.text.split`)."""
    return split(text, limit)


def inline_keyboard(buttons: Sequence[Button]) -> Markup | None:
    items = [
        {"text": b.label, "url": b.url}
        if b.kind is ButtonKind.URL
        else {"text": b.label, "callback_data": b.action}
        for b in buttons
        if b.kind is not ButtonKind.SHARE_CONTACT
    ]
    if not items:
        return None
    per_row = 2 if all(len(item["text"]) <= SHORT_LABEL for item in items) else 1
    rows = [items[i : i + per_row] for i in range(0, len(items), per_row)]
    return {"inline_keyboard": rows}


def contact_keyboard(buttons: Sequence[Button]) -> Markup | None:
    for button in buttons:
        if button.kind is ButtonKind.SHARE_CONTACT:
            return {
                "keyboard": [[{"text": button.label, "request_contact": True}]],
                "one_time_keyboard": True,
                "resize_keyboard": True,
            }
    return None


def card_caption(text: str, card: MemberCardView) -> tuple[str, str]:
    """(plain, html) caption of a member card; the plain one is what the limit is checked on.

    A handler text that already names the member code describes the card itself (it is what
    text-only channels show), so it is the whole caption rather than repeated card lines.
    """
    if text and card.member_code in text:
        return text, html.escape(text)
    lines = [
        (card.name, f"<b>{html.escape(card.name)}</b>"),
        (f"🏅 {card.tier}  ⭐ {card.points:,}", f"🏅 {html.escape(card.tier)}  ⭐ {card.points:,}"),
        (f"🆔 {card.member_code}", f"🆔 <code>{html.escape(card.member_code)}</code>"),
    ]
    if text:
        lines.insert(0, (text + "\n", html.escape(text) + "\n"))
    return "\n".join(p for p, _ in lines), "\n".join(h for _, h in lines)


def plan(reply: Reply) -> list[Outgoing]:
    """The messages one reply becomes, in sending order."""
    contact, inline = contact_keyboard(reply.buttons), inline_keyboard(reply.buttons)
    # with no buttons, a stale contact keyboard from an earlier step must disappear
    markup: Markup = contact or inline or REMOVE_KEYBOARD
    tail = [Outgoing(Kind.TEXT, POINTER, inline)] if contact and inline else []

    media: Outgoing | None = None
    plain, escaped = reply.text, html.escape(reply.text)
    if reply.card is not None:
        plain, escaped = card_caption(reply.text, reply.card)
        media = Outgoing(Kind.PHOTO, "", file=Upload("card.png", reply.card.qr_png))
    elif reply.attachment is not None:
        item = reply.attachment
        kind = Kind.PHOTO if item.mime_type in PHOTO_TYPES else Kind.DOCUMENT
        media = Outgoing(kind, "", file=Upload(item.filename, item.content))

    if media is not None:
        if utf16_len(plain) <= CAPTION_LIMIT:
            return [Outgoing(media.kind, escaped, markup, media.file), *tail]
        if reply.card is not None:  # an over-long card text: the card lines stay as caption
            _, card_html = card_caption("", reply.card)
            media = Outgoing(media.kind, card_html, None, media.file)
            plain = reply.text
        return [media, *_texts(plain, markup), *tail]

    return [*_texts(plain, markup), *tail]


def _texts(plain: str, markup: Markup) -> list[Outgoing]:
    parts = split_text(plain)
    if not parts and markup is not REMOVE_KEYBOARD:
        parts = [POINTER]  # buttons need a message to hang on
    return [
        Outgoing(Kind.TEXT, html.escape(part), markup if i == len(parts) - 1 else None)
        for i, part in enumerate(parts)
    ]


async def call(request: Awaitable[T]) -> T:
    """Await one Bot API call, mapping aiogram's errors onto :mod:`bot.core.errors`."""
    try:
        return await request
    except TelegramForbiddenError as error:
        raise RecipientUnreachable(error.message) from error
    except TelegramRetryAfter as error:
        metrics.count_rate_limited("telegram")
        raise RateLimited(float(error.retry_after), error.message) from error
    except TelegramEntityTooLarge as error:  # a 413 is a network error in aiogram's tree
        raise PermanentChannelError(error.message) from error
    except (TelegramNetworkError, TelegramServerError) as error:
        raise TransientChannelError(error.message) from error
    except TelegramUnauthorizedError as error:  # the bot's token itself
        raise CredentialsRejected(error.message, TOKEN_SETTING) from error
    except TelegramAPIError as error:
        raise PermanentChannelError(error.message) from error
    except ClientDecodeError as error:  # a proxy's HTML error page, a truncated body
        raise TransientChannelError(str(error)) from error


#: ``Reply.meta`` key: how many of the reply's planned messages went out in an earlier attempt
SENT_META: Final = "telegram.sent"


async def send(
    bot: Bot, chat_id: int, replies: Sequence[Reply], next_turn: NextTurn | None = None
) -> None:
    """Deliver ``replies`` in order; the first failure stops the rest and is raised.
    ``next_turn`` is awaited before every message after the first (the send budget's turn).

    Telegram has no idempotency key, so a retry of the whole call would send again what went
    out before the failure (a card's photo, the first part of a long text): a failure after
    some messages went out carries the replies still to send as its ``rest``."""
    session = session_of(bot)
    first = True
    for index, reply in enumerate(replies):
        skip = sent_before(reply, SENT_META)
        for offset, out in enumerate(plan(reply)[skip:]):
            if not first and next_turn is not None:
                await next_turn()
            try:
                await session.post(bot.token, *request(chat_id, out))
            except ChannelError as error:
                if not first:
                    error.rest = [marked(reply, SENT_META, skip + offset), *replies[index + 1 :]]
                raise
            first = False


#: the Bot API method and the name of its file field, per kind of message
_METHODS: Final = {
    Kind.TEXT: ("sendMessage", ""),
    Kind.PHOTO: ("sendPhoto", "photo"),
    Kind.DOCUMENT: ("sendDocument", "document"),
}


def request(chat_id: int, out: Outgoing) -> tuple[str, dict[str, Any], Files | None]:
    """The Bot API call that sends ``out``: method, fields and files (the fields aiogram's
    ``send_message`` / ``send_photo`` / ``send_document`` sent, the bot's HTML default with)."""
    method, file_field = _METHODS[out.kind]
    fields: dict[str, Any] = {"chat_id": chat_id}
    if out.kind is Kind.TEXT:
        fields["text"] = out.html
    elif out.html:  # an empty caption is left out
        fields["caption"] = out.html
    fields["parse_mode"] = "HTML"
    if out.markup is not None:
        fields["reply_markup"] = out.markup
    if out.file is None:
        return method, fields, None
    return method, fields, {file_field: (out.file.filename, out.file.content)}
