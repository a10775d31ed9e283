"""Lists of buttons a page at a time: the branch pickers (the home-branch question at sign-up and
in ``/profile``, the segment and reward wizards' branch steps), ``/branches``, the reward
catalog of /settings, a member's ``/rewards`` and ``/coupons``, the removal and revoke buttons
of ``/staff`` and ``/staff invites`` and the campaign wizard's segment question share it;
:class:`PageWords` names what a list holds.

A chain's every branch (or a shop's every reward) on one set of buttons outgrows what the
platforms take: LINE shows more than 13 buttons as one Flex bubble and refuses a bubble over
30 KB (60 branches with 100-character Thai names make 32 KB), and a Telegram keyboard of a
hundred rows is no way to choose. So a list shows at most :data:`PAGE_SIZE` buttons, then a
button to the next page (the last page's leads back to the first). At 20 of the longest names
and labels a page stays near half of LINE's bubble limit; a list of up to 20 is one page.

Each button names its item (a branch, a reward), not a place on a page: a choice is one tap on
any page, and a button of a page shown earlier still picks its item after the page changed. A
page button names the page it opens; one left over from before items were added or removed
opens the nearest page that still exists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from bot.core.messages import Button
from handlers.context import Context

PAGE_SIZE: Final = 20
#: more digits than any page number of a real shop: longer "page numbers" are forged
_MAX_PAGE_DIGITS: Final = 4


@dataclass(frozen=True, slots=True)
class PageWords:
    """The wording keys of a paged list: the button to the next page, the last page's button
    back to the first, and the line naming the page (``{page}`` of ``{pages}``)."""

    more: str
    first: str
    page: str


BRANCHES: Final = PageWords("pages.more_branches", "pages.first_branches", "pages.page")
REWARDS: Final = PageWords("pages.more_rewards", "pages.first_rewards", "pages.rewards_page")
COUPONS: Final = PageWords("pages.more_coupons", "pages.first_coupons", "pages.coupons_page")
STAFF: Final = PageWords("pages.more_staff", "pages.first_staff", "pages.staff_page")
INVITES: Final = PageWords("pages.more_invites", "pages.first_invites", "pages.invites_page")
SEGMENTS: Final = PageWords("pages.more_segments", "pages.first_segments", "pages.segments_page")
CAMPAIGNS: Final = PageWords(
    "pages.more_campaigns", "pages.first_campaigns", "pages.campaigns_page"
)


@dataclass(frozen=True, slots=True)
class Page:
    """The buttons of one page (its choices, then the page button if there are more pages)
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


def nearest_page(total: int, page: int) -> int:
    """The page that exists nearest to ``page`` (a stale or forged page button's)."""
    return min(max(page, 0), page_count(total) - 1)


def button_page(
    ctx: Context,
    choices: Sequence[Button],
    page: int,
    page_action: Callable[[int], str],
    words: PageWords,
) -> Page:
    """Page ``page`` of ``choices`` (one button per item, in the order shown), its page
    button pressing ``page_action(n)`` to open page ``n``."""
    page = nearest_page(len(choices), page)
    shown = list(choices[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
    turn, note = page_turn(ctx, len(choices), page, page_action, words)
    return Page(tuple(shown) if turn is None else (*shown, turn), note)


def page_turn(
    ctx: Context, total: int, page: int, page_action: Callable[[int], str], words: PageWords
) -> tuple[Button | None, str]:
    """The button leaving page ``page`` of a list of ``total`` items (to the next page, the
    last page's back to the first) and the line naming the page; ``(None, "")`` when the list
    fits one page. ``page`` is one that exists (:func:`nearest_page`)."""
    pages = page_count(total)
    if pages == 1:
        return None, ""
    last = page == pages - 1
    label = ctx.t(words.first if last else words.more)
    turn = Button(label, page_action(0 if last else page + 1))
    return turn, ctx.t(words.page, page=page + 1, pages=pages)


def branch_page(
    ctx: Context, choices: Sequence[Button], page: int, page_action: Callable[[int], str]
) -> Page:
    """:func:`button_page` of branch buttons."""
    return button_page(ctx, choices, page, page_action, BRANCHES)


class Named(Protocol):
    """A branch as a picker shows it."""

    @property
    def code(self) -> str: ...
    @property
    def name_th(self) -> str: ...
    @property
    def name_en(self) -> str: ...


def ticked_branches(
    ctx: Context, branches: Iterable[Named], chosen: Collection[str], action: Callable[[str], str]
) -> list[Button]:
    """One button per branch, named in the reader's language and ticked when its code is
    among ``chosen``, pressing ``action(code)``: the choices of a multi-branch step."""
    return [
        Button(
            ("✓ " if branch.code in chosen else "")
            + (branch.name_th if ctx.locale == "th" else branch.name_en),
            action(branch.code),
        )
        for branch in branches
    ]
