"""A member's tags and notes, as staff change them: from the chat (``/tag``, ``/note``) and
from the web console's member page, with one set of rules and one audit record each.

Tags are short words (Thai letters, a–z, digits, ``_`` and ``-``), lower case, NFC; a note is
free text up to :data:`MAX_NOTE` characters without control characters (line breaks stay).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.core.errors import InvalidInput, NotFound
from bot.core.typed import MINUS_SIGNS, without_zero_width
from storage.uow import UnitOfWork

MAX_NOTE: Final = 500
MAX_TAG: Final = 40
_TAG: Final = re.compile(r"[a-z0-9_\-\u0e00-\u0e7f]{1,40}")


def parse_tags(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """(tags to add, tags to remove) from ``+tag`` / ``-tag`` (or ``−tag``) words (a bare word
    adds), read without zero-width characters; raises :class:`InvalidInput` (``tag.invalid``)
    for a word that is not a tag."""
    added: list[str] = []
    removed: list[str] = []
    for typed in words:
        # a tag is what staff see: a zero-width space copied inside a Thai word is no part of it
        word = without_zero_width(typed)
        if not word:
            continue
        # the minus of a phone keyboard (U+2212) removes, as it takes points in /adjust
        target = removed if word[0] in MINUS_SIGNS else added
        tag = unicodedata.normalize("NFC", word.lstrip("+" + MINUS_SIGNS)).lower()
        if not _TAG.fullmatch(tag):
            raise InvalidInput("tag.invalid", tag=word[: MAX_TAG + 1], max=MAX_TAG)
        target.append(tag)
    return added, removed


@dataclass(frozen=True, slots=True)
class Tagged:
    added: list[str]
    removed: list[str]
    #: the member's tags afterwards
    tags: list[str]


async def change_tags(
    uow: UnitOfWork,
    member_id: int,
    words: Sequence[str],
    *,
    actor: str,
    now: datetime,
    channel: str | None,
) -> Tagged:
    """Add and remove the tags ``words`` say; audited (``member.tagged``, before and after)
    when anything changed."""
    added, removed = parse_tags(words)
    people = uow.people
    before = await people.tags(member_id)
    added = await people.add_tags(member_id, added, now) if added else []
    removed = await people.remove_tags(member_id, removed) if removed else []
    await _still_there(uow, member_id)
    after = await people.tags(member_id)
    if added or removed:
        await uow.audit.record(
            actor,
            "member.tagged",
            now,
            member_id=member_id,
            channel=channel,
            added=added,
            removed=removed,
            before=before,
            after=after,
        )
    return Tagged(added, removed, after)


async def _still_there(uow: UnitOfWork, member_id: int) -> None:
    """Raises :class:`NotFound` (the caller's unit of work then writes nothing) when the
    member was erased while the tag or note was being written: checked after the write, under
    the member's share lock, so an erasure either came first and is seen here or comes after
    this commit and removes the tag or note with the rest (a staff note describes the person)."""
    if not await uow.people.still_there(member_id):
        raise NotFound("error.member_not_found", query=str(member_id))


def clean_note(text: str) -> str:
    """The note as written, without control characters (line breaks stay)."""
    kept = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    return kept.strip()


async def add_note(
    uow: UnitOfWork,
    member_id: int,
    text: str,
    *,
    staff_id: int | None,
    actor: str,
    now: datetime,
    channel: str | None,
) -> int:
    """Keep a note (already :func:`clean_note`-ed, not empty) with who wrote it and when;
    audited (``member.noted``, its length, not its text). Raises :class:`InvalidInput`
    (``note.too_long``) past :data:`MAX_NOTE` characters. Returns the note's id."""
    if len(text) > MAX_NOTE:
        raise InvalidInput("note.too_long", max=MAX_NOTE, length=len(text))
    note = await uow.people.add_note(member_id, staff_id, text, now)
    await _still_there(uow, member_id)
    await uow.audit.record(
        actor,
        "member.noted",
        now,
        member_id=member_id,
        channel=channel,
        note_id=note.id,
        length=len(text),
    )
    return note.id
