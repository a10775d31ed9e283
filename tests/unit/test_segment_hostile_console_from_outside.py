"""Hostile rules typed into the console's live counts and the filtered export: a clear message
in the owner's language, never a 500."""

from __future__ import annotations

import json

import pytest

from bot.bootstrap import App
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

PATHS = ("/admin/members/count", "/admin/segments/count", "/admin/members/export")
HOSTILE = [
    "x" * 5000,
    "(" * 40 + "points >= 1" + ")" * 40,
    "branch = 🍵",
    "segment = 🍵",
    "ชื่อ = ก",
    "tier = ทอง",
    "points >= 1 and",
    "branch in ()",
    "redeemed = 'a''b'",
]


async def _answers(app: App, rule: str) -> list[tuple[int, str]]:
    await ensure_branches(app, ("asoke",))
    await make_member(app, "Ploy", "081-111-1111", points=300, home_branch_code="asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    found = []
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for path in PATHS:
            response = await browser.post(path, {"rule": rule})
            found.append((response.status, await response.text()))
    return found


@pytest.mark.parametrize("rule", HOSTILE, ids=range(len(HOSTILE)))
async def test_a_broken_rule_gets_the_chat_s_thai_words(app: App, rule: str) -> None:
    for status, body in await _answers(app, rule):
        assert status in (200, 400)
        error = json.loads(body)["error"]
        assert any("\u0e00" <= char <= "\u0e7f" for char in error)


async def test_a_huge_campaign_id_is_no_500(app: App) -> None:
    answers = []
    for status, body in await _answers(app, "clicked = 99999999999999999999999"):
        answers.append(status)
        assert status in (200, 400), body[:80]
    assert len(answers) == len(PATHS)
