"""The referral bonus of a first purchase brought by ``chatcrm import sales``: paid once to
both members and told to them once, whether the file holds several purchases of the member,
is run again, or is a dry run (which pays nothing)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from storage.models import Member
from tests.storage.import_support import sales_from, write
from tests.unit.referral_support import referral_entries
from tests.unit.staff_support import ensure_branch, make_member, outbox_rows

HEADER = "receipt,datetime,phone,amount,branch\n"


async def _referred(app: App) -> tuple[Member, Member]:
    """Ploy, and Nok who joined with Ploy's code and shared her own phone (verified)."""
    await ensure_branch(app, "asoke")
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    nok = await make_member(app, "Nok", "0822222222", user_id="m2", phone_verified=True)
    async with app.uow() as uow:
        row = await uow.members.get(nok.id)
        assert row is not None
        row.referred_by_code = ploy.member_code
        await uow.commit()
    return ploy, nok


async def test_an_import_with_several_purchases_pays_the_first_once_and_tells_both_once(
    app: App, engine: AsyncEngine, tmp_path: Path
) -> None:
    ploy, nok = await _referred(app)
    path = write(
        tmp_path / "s.csv",
        HEADER
        + "P-2,2026-03-02 12:00,0822222222,90,asoke\n"
        + "P-1,2026-03-01 09:30,0822222222,250,asoke\n",
    )
    report = await sales_from(engine, path)
    assert (report.created, report.referrals) == (2, 1)
    again = await sales_from(engine, path)
    assert (again.unchanged, again.referrals) == (2, 0)
    assert await referral_entries(app) == [
        (nok.id, 100, f"referral:{nok.id}:referee"),
        (ploy.id, 100, f"referral:{nok.id}:referrer"),
    ]
    sent = sorted(row.dedupe_key for row in await outbox_rows(app, "referral:"))
    assert sent == [f"referral:{nok.id}:referee", f"referral:{nok.id}:referrer"]


async def test_a_dry_run_pays_no_referral(app: App, engine: AsyncEngine, tmp_path: Path) -> None:
    await _referred(app)
    path = write(tmp_path / "s.csv", HEADER + "P-1,2026-03-01 09:30,0822222222,250,asoke\n")
    report = await sales_from(engine, path, dry_run=True)
    assert report.referrals == 0
    assert await referral_entries(app) == []
    assert await outbox_rows(app, "referral:") == []


async def test_an_import_after_the_bonus_was_paid_at_the_counter_pays_nobody_again(
    app: App, engine: AsyncEngine, tmp_path: Path
) -> None:
    """Nok's first purchase paid the bonus; a later POS file brings an older one of hers."""
    ploy, nok = await _referred(app)
    first = write(tmp_path / "a.csv", HEADER + "P-5,2026-03-02 10:00,0822222222,250,asoke\n")
    assert (await sales_from(engine, first)).referrals == 1
    older = write(tmp_path / "b.csv", HEADER + "P-1,2026-02-01 10:00,0822222222,250,asoke\n")
    assert (await sales_from(engine, older)).referrals == 0
    assert [member for member, _, _ in await referral_entries(app)] == [nok.id, ploy.id]
