"""Which branch a word someone typed or wrote in a file names: the one rule segment rules and
the CSV imports share.

A branch's code is unique and never changes, so a word equal to a code names that branch and
no other, whatever another branch is called ("central" is CentralWorld's code even when the
Ladprao branch is called "Central" in English). Only a word that is no branch's code is read as
a name, Thai or English: one branch called that is the one; two or more sharing the name is a
question only the person can answer (:class:`SharedBranchName`), never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

#: (id, code, Thai name, English name)
BranchRow = tuple[int, str, str, str]


def _casefold(text: str) -> str:
    return text.casefold()


class UnknownBranch(LookupError):
    """No branch has this code or name."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


class SharedBranchName(LookupError):
    """The word is no branch's code and the name of more than one branch; ``codes`` are
    theirs (sorted), for the message asking for one of them."""

    def __init__(self, word: str, codes: list[str]) -> None:
        super().__init__(word, codes)
        self.word = word
        self.codes = codes


class BranchNames:
    """The shop's branches by code and by name, compared after ``fold`` (case folding by
    default; the imports fold like their headers)."""

    def __init__(
        self, branches: Iterable[BranchRow], fold: Callable[[str], str] = _casefold
    ) -> None:
        self._fold: Final = fold
        self._by_code: dict[str, tuple[int, str]] = {}
        self._by_name: dict[str, dict[int, str]] = {}
        for branch_id, code, name_th, name_en in branches:
            self._by_code[fold(code)] = (branch_id, code)
            for name in (name_th, name_en):
                self._by_name.setdefault(fold(name), {})[branch_id] = code

    def find(self, word: str) -> tuple[int, str]:
        """(id, code) of the branch ``word`` names; raises :class:`UnknownBranch` or
        :class:`SharedBranchName`."""
        key = self._fold(word)
        found = self._by_code.get(key)
        if found is not None:
            return found
        named = self._by_name.get(key, {})
        if len(named) == 1:
            [(branch_id, code)] = named.items()
            return branch_id, code
        if named:
            raise SharedBranchName(word, sorted(named.values()))
        raise UnknownBranch(word)

    def id_of(self, word: str) -> int:
        """The id of the branch ``word`` names (raises as :meth:`find`)."""
        return self.find(word)[0]
