"""Recording every text a person is shown, and finding words of the other language in it.

:class:`Transcript` wraps the bus of an app so that every reply of every chat (text, button
labels, the member card's tier) is kept; :meth:`Transcript.add_outbox` adds what was queued for
others (receipts, staff notices, campaign and automation messages). :func:`foreign_words` then
says what a reader of that locale could not read: Thai script in English, English words in Thai.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.messages import Button, ButtonKind, Inbound, Reply
from bot.core.wire import payload_to_replies
from bot.i18n import LOCALES, t
from shop.automations import DEFAULTS as AUTOMATIONS
from shop.loyalty import DEFAULT_TIERS
from storage.models import OutboxMessage
from storage.raw_session import session_of
from storage.segments.fields import FIELDS
from storage.segments.lifecycle import BUILTIN_SEGMENTS
from tests.chat import Chat
from tests.unit.staff_support import SHOP_BRANCHES

#: Thai script, but for the baht sign (U+0E3F), which English writes too
THAI: Final = re.compile(r"[\u0e00-\u0e3e\u0e40-\u0e7f]+")
#: a word of four letters or more standing alone (not part of a code, a path or a token);
#: words in capitals are codes and acronyms (claim codes, LINE, PDPA), never prose
LATIN_WORD: Final = re.compile(r"(?<![\w/.@=:{-])(?![A-Z]+\b)[A-Za-z]{4,}(?![\w/.@=}-])")
#: a command with its sub-command (``/campaign preview``), links, placeholders as written
_NOT_PROSE: Final = re.compile(r"/[a-z_]+(?:@\w+)?(?: [a-z]+\b)?|https?://\S+|\{\w+\}")

#: what reads the same in both languages: brands, and the identifiers a person types as they
#: are (segment fields and built-in segments, tier, role, automation and branch codes:
#: ``tier = gold``, ``/staff invite cashier asoke``); identifiers are lower case, their display
#: names are not
BRAND_AND_FORMAT: Final = frozenset(
    {"Telegram", "chatcrm", "Loyverse"}
    | set(FIELDS)
    | set(BUILTIN_SEGMENTS)
    | {tier.name for tier in DEFAULT_TIERS}
    | {"owner", "manager", "cashier"}
    | set(AUTOMATIONS)
    | set(SHOP_BRANCHES)
)

#: each language is named in itself wherever it is named (the language buttons, /help): it is
#: how a reader who landed in the other language finds the way back
LANGUAGE_NAMES: Final = frozenset(
    t(locale, f"language.name_{code}") for locale in LOCALES for code in LOCALES
)


#: the owner's editors of names kept in both languages (branch names, tier names): they show
#: both on purpose, as the form they edit; every other screen shows the reader's one
BILINGUAL_EDITORS: Final = re.compile(r"^(?:/branches|brnv?:|set:tne?\b)")


def _texts_of(reply: Reply) -> Iterator[str]:
    if reply.text:
        yield reply.text
    for button in reply.buttons:
        yield button.label
    if reply.card is not None:
        yield reply.card.tier


@dataclass
class Said:
    """One text shown to someone: where it came from (the message that caused it, or the
    outbox row) and the text itself."""

    origin: str
    text: str


@dataclass
class Transcript:
    """Everything shown during a run, in order."""

    said: list[Said] = field(default_factory=list)

    def record(self, origin: str, replies: Iterable[Reply]) -> None:
        for reply in replies:
            self.said.extend(Said(origin, text) for text in _texts_of(reply))

    def attach(self, app: App) -> None:
        """Keep every reply the bus gives from now on."""
        handle = app.bus.handle

        async def recording(inbound: Inbound) -> list[Reply]:
            replies = await handle(inbound)
            origin = inbound.text or inbound.action or inbound.kind.value
            self.record(f"{inbound.identity.user_id}: {origin}", replies)
            return replies

        app.bus.handle = recording  # type: ignore[method-assign]

    async def add_outbox(self, app: App) -> None:
        async with app.uow() as uow:
            rows = await session_of(uow).execute(select(OutboxMessage).order_by(OutboxMessage.id))
            for row in rows.scalars():
                self.record(f"outbox {row.dedupe_key}", payload_to_replies(row.payload))


def buttons_of(chat: Chat) -> list[Button]:
    return [b for reply in chat.last for b in reply.buttons if b.kind is ButtonKind.ACTION]


def foreign_words(locale: str, text: str, user_data: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` a reader of ``locale`` is not meant to see: Thai script in English,
    English words (four letters or more) in Thai. ``user_data`` (names people typed) is not
    judged: it shows as written in both languages."""
    for value in sorted({*user_data, *LANGUAGE_NAMES}, key=len, reverse=True):
        text = text.replace(value, " ")
    if locale == "en":
        return THAI.findall(text)
    prose = _NOT_PROSE.sub(" ", text)
    return [w for w in LATIN_WORD.findall(prose) if w not in BRAND_AND_FORMAT]


def offences(locale: str, transcript: Transcript, user_data: Iterable[str] = ()) -> list[str]:
    """Every text of ``transcript`` with foreign words, as "origin → words ← text" lines."""
    data = tuple(user_data)
    found = []
    for said in transcript.said:
        if BILINGUAL_EDITORS.match(said.origin.split(": ", 1)[-1]):
            continue
        words = foreign_words(locale, said.text, data)
        if words:
            found.append(f"{said.origin} → {words} ← {said.text!r}")
    return found
