"""Guessing throttles hold under concurrency: 50 wrong codes sent at once from one chat account
are each looked at only while the account is under its limit (issue 15, item 7).

Each message goes through the bus in its own unit of work, really at once (as a phone on a bad
network resends, or a script would). Every answer is either "wrong code" or "wait"; the number
of "wrong code" answers, and of failed attempts in the audit log, never exceeds the limit.
"""

from __future__ import annotations

import asyncio

from bot.bootstrap import App
from bot.i18n import t
from handlers.customer.link import MAX_FAILURES
from handlers.staff.claim import FAILURE_LIMIT
from handlers.staff.redeem import MAX_FAILURES as REDEEM_LIMIT
from tests.chat import Chat
from tests.unit.staff_support import audit_rows, make_staff

ATTEMPTS = 50


async def _at_once(app: App, user_id: str, texts: list[str]) -> list[str]:
    chats = [Chat(app, user_id=user_id, language_code="en") for _ in texts]
    replies = await asyncio.gather(*(c.say(text) for c, text in zip(chats, texts, strict=True)))
    return ["\n".join(reply.text for reply in batch) for batch in replies]


def _wrong(prefix: str) -> list[str]:
    return [f"{prefix} WRONG{n:03d}" for n in range(ATTEMPTS)]


async def test_fifty_wrong_link_codes_at_once_get_five_tries(app: App) -> None:
    answers = await _at_once(app, "g1", _wrong("/link"))
    assert answers.count(t("en", "link.bad_code")) == MAX_FAILURES
    assert len(await audit_rows(app, "link.failed")) == MAX_FAILURES


async def test_fifty_wrong_join_codes_at_once_get_five_tries(app: App) -> None:
    answers = await _at_once(app, "g1", _wrong("/join"))
    assert answers.count(t("en", "claim.bad_code")) == MAX_FAILURES
    assert len(await audit_rows(app, "claim.failed")) == MAX_FAILURES


async def test_fifty_wrong_staff_claims_at_once_get_five_tries(app: App) -> None:
    codes = [f"/claim ZZZZ-ZZZZ-ZZZZ-Z{n:03d}" for n in range(ATTEMPTS)]
    answers = await _at_once(app, "g1", codes)
    assert answers.count(t("en", "staff.claim_invalid")) == FAILURE_LIMIT
    assert len(await audit_rows(app, "staff.claim_failed")) == FAILURE_LIMIT


async def test_fifty_wrong_coupon_codes_at_once_get_ten_tries(app: App) -> None:
    await make_staff(app, "c1", "cashier", "asoke")
    codes = [f"/redeem ZZZZ-ZZZZ-Z{n:03d}" for n in range(ATTEMPTS)]
    answers = await _at_once(app, "c1", codes)
    assert answers.count(t("en", "redeem.not_found")) == REDEEM_LIMIT
    assert len(await audit_rows(app, "coupon.redeem_failed")) == REDEEM_LIMIT
