"""The same receipt number typed by two cashiers at the same moment, from outside.

Each branch's till numbers its own receipts: Asoke's and Sukhumvit's POSes both printing
receipt 1001 are two sales, both stored. Two cashiers of one branch typing its 1001 for two
different customers at once: one sale is stored, with its points; the other cashier is told
the receipt is taken, and nothing of their attempt is left half-written.
"""

from __future__ import annotations

import asyncio

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.sales_support import balance, sales
from tests.unit.staff_support import ensure_branch, ensure_branches, make_member, staff_chat


async def test_one_receipt_at_two_branches_at_once_is_two_sales(app: App) -> None:
    await ensure_branches(app, ("asoke", "sukhumvit"))
    asoke = await staff_chat(app, "ca", "cashier", "asoke", language_code="en")
    sukhumvit = await staff_chat(app, "cs", "cashier", "sukhumvit", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001")
    nok = await make_member(app, "Nok", "081-111-0002")
    await asyncio.gather(
        asoke.say(f"/sale {ploy.member_code} 250 receipt=1001"),
        sukhumvit.say(f"/sale {nok.member_code} 250 receipt=1001"),
    )
    stored = {(sale.member_id, sale.branch_id) for sale in await sales(app)}
    assert stored == {
        (ploy.id, await ensure_branch(app, "asoke")),
        (nok.id, await ensure_branch(app, "sukhumvit")),
    }
    assert "1001" in asoke.text(), asoke.text()
    assert "1001" in sukhumvit.text(), sukhumvit.text()
    assert (await balance(app, ploy.id), await balance(app, nok.id)) == (10, 10)


async def test_one_receipt_at_one_branch_at_once_is_one_sale(app: App) -> None:
    await ensure_branches(app, ("asoke", "sukhumvit"))
    first = await staff_chat(app, "ca", "cashier", "asoke", language_code="en")
    second = await staff_chat(app, "cb", "cashier", "asoke", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001")
    nok = await make_member(app, "Nok", "081-111-0002")
    await asyncio.gather(
        first.say(f"/sale {ploy.member_code} 250 receipt=1001"),
        second.say(f"/sale {nok.member_code} 250 receipt=1001"),
    )
    [sale] = await sales(app)
    winner, loser = (first, second) if sale.member_id == ploy.id else (second, first)
    assert loser.text() == t("en", "sale.receipt_conflict", receipt="1001"), loser.text()
    assert "1001" in winner.text()
    balances = {await balance(app, ploy.id), await balance(app, nok.id)}
    assert balances == {0, 10}
