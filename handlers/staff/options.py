"""Options typed after a counter command's words: ``receipt=R-1``, ``branch=asoke``,
``cat=tea,cake`` (``/sale``), ``branch=`` (``/void``, ``/redeem``), in English or Thai
(``ใบเสร็จ=``, ``สาขา=``, ``หมวด=``). One reading for every command, so an option a cashier
types means the same thing, and is refused the same way, wherever it is typed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from bot.core.errors import InvalidInput
from storage.branch_names import BranchNames, SharedBranchName, UnknownBranch
from storage.uow import UnitOfWork

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


async def branch_code_named(uow: UnitOfWork, word: str | None) -> str | None:
    """The code of the branch ``branch=`` names, read as segment rules and the imports read
    it (:mod:`storage.branch_names`): a code in any case, else a branch's own Thai or English
    name (``branch=อโศก``). A name two branches share is a question (InvalidInput listing
    their codes); a word naming no branch comes back as typed, for the command's refusal."""
    if word is None or not word.strip():
        return word
    rows = [(b.id, b.code, b.name_th, b.name_en) for b in await uow.branches.every()]
    try:
        return BranchNames(rows).find(word.strip())[1]
    except UnknownBranch:
        return word
    except SharedBranchName as shared:
        raise InvalidInput("sale.branch_required", branches=", ".join(shared.codes)) from None
