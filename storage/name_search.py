"""Finding a member by a part of their name, as staff type it (``/customer`` and the console).

A name is kept as the member wrote it, zero-width characters included (Thai text puts a
zero-width space between words, invisibly; an emoji family holds its joiners). A cashier types
what they read, so both sides are compared by their *search key*: the text without invisible
characters, in lower case (every letter: ``JOSÉ`` and ``josé`` are one name).

A name of printable ASCII and Thai only (most) is its own key once ``lower()``ed, which both
databases do in C. Any other name (an accent, an emoji, a zero-width space) is told by a C-level
pattern and gets its key made: on PostgreSQL by ``lower(translate(...))``, on SQLite, whose
``lower()`` folds ASCII letters only, by :func:`search_key` registered on every connection as
:data:`SQLITE_NAME_KEY` (a Python call for such rows only: ``bench/name_search.py``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from sqlalchemy import and_, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, String

from bot.core.typed import ZERO_WIDTH

SQLITE_NAME_KEY: Final = "chatcrm_name_key"
#: characters that show nothing: zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen
INVISIBLE: Final = ZERO_WIDTH + "\u00ad"
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


#: a name with nothing but printable ASCII and Thai (no case beyond ASCII, nothing invisible)
#: is its own key once lower()ed: the rest are told by a C-level pattern before a key is made
_PLAIN = " -~\u0e01-\u0e5b"


class unusual_name(FunctionElement[bool]):
    """Whether a name holds a character outside printable ASCII and Thai."""

    type = Boolean()
    inherit_cache = True


@compiles(unusual_name)
def _unusual_postgresql(element: unusual_name, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} ~ '[^{_PLAIN}]')"


@compiles(unusual_name, "sqlite")
def _unusual_sqlite(element: unusual_name, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} GLOB '*[^{_PLAIN}]*')"


class name_key(FunctionElement[str]):
    """The search key of a name column in SQL (:func:`search_key`)."""

    type = String()
    inherit_cache = True


@compiles(name_key)
def _name_key_postgresql(element: name_key, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower(translate({compiler.process(element.clauses, **kw)}, '{INVISIBLE}', ''))"


@compiles(name_key, "sqlite")
def _name_key_sqlite(element: name_key, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_NAME_KEY}({compiler.process(element.clauses, **kw)})"


def name_contains(column: Any, typed: str) -> ColumnElement[bool]:
    """``column``'s name holds what staff typed, compared by search keys: the lower()ed name
    first (the key of a plain name, and never a false match: the typed key holds nothing
    invisible), the key itself only for a name that may differ from it."""
    pattern = "%" + _LIKE_SPECIAL.sub(r"\\\1", query_key(typed)) + "%"
    return or_(
        func.lower(column).like(pattern, escape="\\"),
        and_(unusual_name(column), name_key(column).like(pattern, escape="\\")),
    )


def register_name_key(connection: Any) -> None:
    """:func:`search_key` on a new SQLite connection (deterministic: same name, same key)."""
    connection.create_function(SQLITE_NAME_KEY, 1, search_key, deterministic=True)
