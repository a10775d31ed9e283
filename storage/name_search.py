"""Finding a member by a part of their name, as staff type it (``/customer`` and the console).

A name is kept as the member wrote it, zero-width characters included (Thai text puts a
zero-width space between words, invisibly; an emoji family holds its joiners). A cashier types
what they read, so both sides are compared by their *search key*: the text without invisible
characters, in lower case (every letter: ``JOSÉ`` and ``josé`` are one name).

PostgreSQL folds case with its own ``lower()`` and drops the characters with ``translate()``.
SQLite's ``lower()`` folds ASCII letters only, so it takes the key from :func:`search_key`,
registered on every SQLite connection as :data:`SQLITE_NAME_KEY` (one C-level translate and
lower per row).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

SQLITE_NAME_KEY: Final = "chatcrm_name_key"
#: characters that show nothing: zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen
INVISIBLE: Final = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_DROP_INVISIBLE: Final = dict.fromkeys(map(ord, INVISIBLE))
_LIKE_SPECIAL: Final = re.compile(r"([\\%_])")


def search_key(text: str | None) -> str | None:
    """A stored name's search key: without invisible characters, in lower case."""
    if text is None:
        return None
    return text.translate(_DROP_INVISIBLE).lower()


def query_key(typed: str) -> str:
    """What staff typed, as a search key: NFC (as names are stored), spaces trimmed and runs
    of them made one."""
    return " ".join((search_key(unicodedata.normalize("NFC", typed)) or "").split())


def contains_pattern(typed: str) -> str:
    """A LIKE pattern (escape ``\\``) matching a search key that holds what was typed."""
    return "%" + _LIKE_SPECIAL.sub(r"\\\1", query_key(typed)) + "%"


class name_key(FunctionElement[str]):
    """The search key of a name column, in SQL."""

    type = String()
    inherit_cache = True


@compiles(name_key)
def _name_key_postgresql(element: name_key, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"lower(translate({column}, '{INVISIBLE}', ''))"


@compiles(name_key, "sqlite")
def _name_key_sqlite(element: name_key, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_NAME_KEY}({compiler.process(element.clauses, **kw)})"


def name_contains(column: Any, typed: str) -> ColumnElement[bool]:
    """``column``'s name holds what staff typed, compared by search keys."""
    return name_key(column).like(contains_pattern(typed), escape="\\")


def register_name_key(connection: Any) -> None:
    """:func:`search_key` on a new SQLite connection (deterministic: same name, same key)."""
    connection.create_function(SQLITE_NAME_KEY, 1, search_key, deterministic=True)
