"""Cells of the CSV files the product writes, as a spreadsheet reads them.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a tab or carriage return first can hide one): a customer's chosen name
``=HYPERLINK(…)`` would become a link, ``+66812345678`` the number 66812345678 shown as
6.68E+10. Every cell of every CSV the product writes (``chatcrm export members``, the web
console's download, ``chatcrm import``'s ``--errors`` report) goes through
:func:`spreadsheet_row`, which writes such a cell with a leading ``'``; ``chatcrm import``
removes it again (:func:`unguarded`), so an export reads back as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_START: Final = frozenset("=+-@\t\r")
#: the ``'`` :func:`spreadsheet_safe` puts before text that would otherwise be a formula
_GUARD: Final = re.compile(r"^'(?=[=+\-@\t\r])")


def spreadsheet_safe(value: object) -> str:
    """``value`` as a cell a spreadsheet shows as text: ``'`` first when it would be a formula;
    None is an empty cell."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return f"'{text}" if text[:1] in FORMULA_START else text


def spreadsheet_row(values: Iterable[object]) -> list[str]:
    """Every cell of a row through :func:`spreadsheet_safe`."""
    return [spreadsheet_safe(value) for value in values]


def unguarded(text: str) -> str:
    """A cell as it was before :func:`spreadsheet_safe` guarded it (a ``'`` before what would
    be a formula goes; any other text is kept as it is)."""
    return _GUARD.sub("", text) if text.startswith("'") else text
