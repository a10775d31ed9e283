"""Branch pickers a page at a time: the home-branch question (sign-up and ``/profile``) and the
segment wizard's branch step share it.

A chain's every branch on one set of buttons outgrows what the platforms take: LINE shows more
than 13 buttons as one Flex bubble and refuses a bubble over 30 KB (60 branches with
100-character Thai names make 32 KB), and a Telegram keyboard of a hundred rows is no way to
choose. So a picker shows at most :data:`PAGE_SIZE` branches, then a button to the next page
(the last page's leads back to the first). At 20 branches of the longest names and labels a
page stays near half of LINE's bubble limit; a shop with up to 20 open branches sees one page,
as before.

Each branch button names its branch, not a place on a page: a choice is one tap on any page,
and a button of a page shown earlier still picks its branch after the page changed. A page
button names the page it opens; one left over from before branches opened or closed opens the
nearest page that still exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.messages import Button
from handlers.context import Context

PAGE_SIZE: Final = 20
#: more digits than any page number of a real shop: longer "page numbers" are forged
_MAX_PAGE_DIGITS: Final = 4


@dataclass(frozen=True, slots=True)
class Page:
    """The buttons of one page (its branches, then the page button if there are more pages)
    and a line saying which page it is (empty when there is only one)."""

    buttons: tuple[Button, ...]
    note: str


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def page_holding(index: int) -> int:
    """The page (from 0) on which the ``index``-th choice is shown."""
    return max(0, index) // PAGE_SIZE


def page_number(value: str) -> int:
    """The page a page button names; 0 for anything that is not a page number (a button is a
    request: its data can be forged)."""
    if value.isascii() and value.isdigit() and len(value) <= _MAX_PAGE_DIGITS:
        return int(value)
    return 0


def branch_page(
    ctx: Context, choices: Sequence[Button], page: int, page_action: Callable[[int], str]
) -> Page:
    """Page ``page`` of ``choices`` (one button per branch, in the order shown), its page
    button pressing ``page_action(n)`` to open page ``n``."""
    pages = page_count(len(choices))
    page = min(max(page, 0), pages - 1)
    shown = list(choices[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
    if pages == 1:
        return Page(tuple(shown), "")
    last = page == pages - 1
    label = ctx.t("pages.first_branches" if last else "pages.more_branches")
    shown.append(Button(label, page_action(0 if last else page + 1)))
    return Page(tuple(shown), ctx.t("pages.page", page=page + 1, pages=pages))
