"""Referral money from outside: a referred member whose first purchase reaches the shop
through ``chatcrm import sales`` (a POS export) rather than ``/sale``, a referrer who erased
themselves before the friend's first purchase, and a first purchase voided and bought again.
Members join as the sign-up leaves them (referred by a code); sales come through the import and
``/sale``; asserted on both members' ledgers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from storage.models import Member
from tests.chat import Chat
from tests.storage.import_support import sales_from, write
from tests.unit.sales_support import approvals, ledger
from tests.unit.staff_support import ensure_branch, make_member, member_chat, staff_chat


async def _referred(app: App) -> tuple[Chat, Member, Member]:
    """An Asoke manager (English); Ploy, and Nok who joined with Ploy's code and shared her own
    phone through Telegram (verified)."""
    await ensure_branch(app, "asoke")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    _, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    nok = await make_member(app, "Nok", "0822222222", user_id="m2", phone_verified=True)
    async with app.uow() as uow:
        row = await uow.members.get(nok.id)
        assert row is not None
        row.referred_by_code = ploy.member_code
        await uow.commit()
    return manager, ploy, nok


async def test_a_first_purchase_imported_from_the_pos_pays_the_referral_once(
    app: App, engine: AsyncEngine, tmp_path: Path
) -> None:
    manager, ploy, nok = await _referred(app)
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\nP-1,2026-03-02 09:30,0822222222,250,asoke\n",
    )
    assert (await sales_from(engine, path)).created == 1
    await manager.say(f"/sale {nok.member_code} 250 receipt=R2")
    assert [e for e in await ledger(app, ploy.id) if e[1] == "referral"] == [(100, "referral")]
    assert [e for e in await ledger(app, nok.id) if e[1] == "referral"] == [(100, "referral")]


async def test_a_first_purchase_voided_and_bought_again_pays_the_referral_once(
    app: App,
) -> None:
    manager, ploy, nok = await _referred(app)
    await manager.say(f"/sale {nok.member_code} 250 receipt=R1")
    await manager.say("/void R1")
    await manager.say(f"/sale {nok.member_code} 250 receipt=R2")
    await manager.say(f"/sale {nok.member_code} 250 receipt=R3")
    assert await ledger(app, ploy.id) == [(100, "referral")]
    referrals = [e for e in await ledger(app, nok.id) if e[1] == "referral"]
    assert referrals == [(100, "referral")]


async def test_a_referrer_who_erased_themselves_earns_nothing_and_pays_no_one_twice(
    app: App,
) -> None:
    manager, ploy, nok = await _referred(app)
    ploy_chat = Chat(app, user_id="m1")
    await ploy_chat.say("/deleteme")
    await ploy_chat.press("del:yes")
    await manager.say(f"/sale {nok.member_code} 250 receipt=R1")
    assert "went wrong" not in manager.text()
    assert [e for e in await ledger(app, ploy.id) if e[1] == "referral"] == []
    assert len([e for e in await ledger(app, nok.id) if e[1] == "referral"]) <= 1


async def test_a_first_purchase_approved_over_the_cashiers_cap_pays_the_referral_once(
    app: App,
) -> None:
    """Nok's first purchase is above the cashier's daily cap: it waits for the owner, and
    his approve (pressed twice) records it and pays both members once."""
    _, ploy, nok = await _referred(app)
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await cashier.say(f"/sale {nok.member_code} 25,000 receipt=BIG")
    assert await ledger(app, nok.id) == []
    [request] = await approvals(app)
    await owner.press(f"apv:y:{request.id}")
    await owner.press(f"apv:y:{request.id}")
    assert await ledger(app, ploy.id) == [(100, "referral")]
    assert sorted(await ledger(app, nok.id)) == [(100, "referral"), (1000, "sale")]
