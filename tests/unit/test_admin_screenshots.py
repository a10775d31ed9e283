"""Every page of the console has its screenshots, in Thai and English at phone width, written
by the browser tests (issue 18's "screenshots of each page"): a page added to
:data:`bot.admin.ROUTES` without a browser test that shows it fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from bot.admin import ROUTES

E2E: Final = Path(__file__).parents[1] / "e2e"
#: each page (GET route) → the name of its screenshot (``<name>-th.png``, ``<name>-en.png``)
PAGES: Final = {
    "/": "overview",
    "/members": "members",
    "/members/{member_id:[0-9]+}": "member",
    "/segments": "segments",
    "/segments/new": "segment-new",
    "/segments/{segment_id:[0-9]+}": "segment-edit",
    "/campaigns": "campaigns",
    "/campaigns/new": "campaign-new",
    "/campaigns/{campaign_id:[0-9]+}": "campaign-results",
    "/campaigns/{campaign_id:[0-9]+}/preview": "campaign-preview",
    "/inbox": "inbox",
    "/inbox/{thread_id:[0-9]+}": "inbox-thread",
    "/staff": "staff",
    "/staff/{staff_id:[0-9]+}/remove": "staff-remove",
    "/settings": "settings",
    "/reports": "reports",
}
#: pages outside ROUTES, and what a POST answers with a page of its own
OTHERS: Final = (
    "signin",
    "signedout",
    "refused",
    "settings-manager",
    "settings-lifecycle",
    "members-filtered",
    "members-filter-error",
    "member-extras",
    "overview-charts",
)


def _shot_names() -> set[str]:
    sources = "\n".join(path.read_text() for path in E2E.glob("test_admin_browser*.py"))
    return set(re.findall(r'_screenshot\(\w+, f"([a-z-]+)-\{language\}"\)', sources))


def test_every_console_page_has_a_screenshot_in_both_languages() -> None:
    pages = {path for method, path, _ in ROUTES if method == "GET"}
    assert pages == set(PAGES)
    taken = _shot_names()
    assert set(PAGES.values()) <= taken
    assert set(OTHERS) <= taken


def test_the_browser_tests_run_in_thai_and_english() -> None:
    for path in E2E.glob("test_admin_browser*.py"):
        source = path.read_text()
        if "await _screenshot(" in source:
            assert '@pytest.mark.parametrize("language", ["th", "en"])' in source, path.name
