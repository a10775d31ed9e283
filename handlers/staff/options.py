"""Options typed after a counter command's words: ``receipt=R-1``, ``branch=asoke``,
``cat=tea,cake`` (``/sale``), ``branch=`` (``/void``, ``/redeem``), in English or Thai
(``ใบเสร็จ=``, ``สาขา=``, ``หมวด=``). One reading for every command, so an option a cashier
types means the same thing, and is refused the same way, wherever it is typed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from bot.core.errors import InvalidInput

OPTION_NAMES: Final = {
    "receipt": "receipt",
    "ใบเสร็จ": "receipt",
    "branch": "branch",
    "สาขา": "branch",
    "cat": "cat",
    "หมวด": "cat",
}


def split_options(
    text: str, allowed: Collection[str], usage: str
) -> tuple[list[str], dict[str, str]]:
    """The words of ``text`` but its options, and the options among ``allowed`` (by their
    English name; the last of one typed twice counts). An option the command does not take
    stays a word (the command's own word count refuses it); one without a value is refused
    with the command's ``usage`` message (InvalidInput), as a value left out by mistake
    must not turn into "no branch" or "no receipt"."""
    options: dict[str, str] = {}
    words: list[str] = []
    for word in text.split():
        name, equals, value = word.partition("=")
        option = OPTION_NAMES.get(name.casefold()) if equals else None
        if option is None or option not in allowed:
            words.append(word)
        elif not value:
            raise InvalidInput(usage)
        else:
            options[option] = value
    return words, options
