"""/customer, /tag and /note: what staff see and write about a customer, all audited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.bootstrap import App
from handlers.staff.customers import split_member
from storage.models import Member, MemberNote, MemberTag, PointsEntry
from tests.unit.journey_support import buttons, rows
from tests.unit.referral_support import add_sale
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    member_chat,
    staff_chat,
)


async def ploy_with_sales(app: App) -> Member:
    """Ploy: 100 and 200 baht at Asoke, 300 at Ratchada (the latest), a voided 1,000."""
    branches = await ensure_branches(app, ("asoke", "ratchada"))
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="tg1", points=40)
    now = app.clock.now()
    async with app.uow() as uow:
        await add_sale(uow, ploy.id, branches["asoke"], "100", now - timedelta(days=10))
        await add_sale(uow, ploy.id, branches["asoke"], "200", now - timedelta(days=5))
        await add_sale(uow, ploy.id, branches["ratchada"], "300", now - timedelta(days=1))
        voided = await add_sale(uow, ploy.id, branches["ratchada"], "1000", now)
        voided.voided_at = now
        await uow.commit()
    return ploy


async def test_purchase_figures_are_computed_from_the_live_sales(app: App) -> None:
    ploy = await ploy_with_sales(app)
    async with app.uow() as uow:
        summary = await uow.people.purchases(ploy.id)
        asoke = await uow.branches.by_code("asoke")
    assert summary.visits == 3
    assert summary.spend == Decimal("600.00")
    assert summary.average_ticket == Decimal("200.00")
    assert summary.last_visit == app.clock.now() - timedelta(days=1)
    assert asoke is not None
    assert summary.favourite_branch_id == asoke.id


async def test_customer_by_phone_shows_profile_figures_and_is_audited(app: App) -> None:
    ploy = await ploy_with_sales(app)
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/customer 081 234 5678")
    text = cashier.text()
    for expected in (
        f"Ploy · {ploy.member_code}",
        "Phone 081-234-5678",
        "40 points",
        "Visits 3",
        "average ticket ฿200",
        "last visit 2 Mar 2026",
        "favourite branch Asoke",
        "Lifetime value ฿600",
        "membership yes · offers yes",
        "Telegram ✓",
    ):
        assert expected in text
    viewed = await audit_rows(app, "customer.viewed")
    assert [(row.member_id, row.actor.startswith("staff:")) for row in viewed] == [(ploy.id, True)]


async def test_a_part_of_a_name_with_several_matches_offers_a_choice(app: App) -> None:
    first = await make_member(app, "Ploy Anan", "081-111-1111")
    await make_member(app, "Ploy Boon", "081-222-2222")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/customer ploy")
    assert len(buttons(cashier.last)) == 2
    await cashier.press(f"cust:show:{first.id}")
    assert "Ploy Anan" in cashier.text()
    assert "081-111-1111" in cashier.text()


async def test_a_single_name_match_is_shown_at_once(app: App) -> None:
    await make_member(app, "สมหญิง ใจดี", "081-111-1111")
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/customer ใจดี")
    assert "081-111-1111" in cashier.text()


async def test_an_unknown_customer_is_reported(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/customer 089-000-0000")
    assert "No member has the phone number" in cashier.text()
    assert await audit_rows(app, "customer.viewed") == []


async def test_tags_are_added_lowercased_and_removed_with_an_audit_row(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/tag 081 234 5678 +VIP +ลูกค้าประจำ")
    await cashier.say(f"/tag {ploy.member_code} -vip")
    tags = await rows(app, MemberTag, MemberTag.member_id == ploy.id)
    assert [tag.tag for tag in tags] == ["ลูกค้าประจำ"]
    audited = await audit_rows(app, "member.tagged")
    assert [(row.details["added"], row.details["removed"]) for row in audited] == [
        (["vip", "ลูกค้าประจำ"], []),
        ([], ["vip"]),
    ]
    assert audited[1].details["after"] == ["ลูกค้าประจำ"]


async def test_an_invalid_tag_is_refused_and_nothing_is_stored(app: App) -> None:
    await make_member(app, "Ploy", "081-234-5678")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/tag 0812345678 +ok +not!ok")
    assert "cannot be a tag" in cashier.text()
    assert await rows(app, MemberTag) == []


async def test_a_note_is_kept_with_its_author_shown_and_audited(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/note 081-234-5678 likes less sugar\nand oat milk")
    notes = await rows(app, MemberNote)
    assert [(n.member_id, n.text) for n in notes] == [(ploy.id, "likes less sugar\nand oat milk")]
    assert notes[0].staff_id is not None
    assert [row.details["note_id"] for row in await audit_rows(app, "member.noted")] == [
        notes[0].id
    ]
    await cashier.say("/customer 0812345678")
    assert "likes less sugar" in cashier.text()


async def test_a_note_over_500_characters_is_refused(app: App) -> None:
    await make_member(app, "Ploy", "081-234-5678")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    await cashier.say("/note 0812345678 " + "x" * 501)
    assert "at most 500" in cashier.text()
    assert await rows(app, MemberNote) == []


@pytest.mark.parametrize(
    "command", ["/customer 0812345678", "/tag 0812345678 +vip", "/note 0812345678 hello"]
)
async def test_a_customer_cannot_use_staff_customer_commands(app: App, command: str) -> None:
    chat, _ = await member_chat(app, "Ploy", "081-234-5678", locale="en")
    await chat.say(command)
    assert "not allowed" in chat.text()
    assert await rows(app, MemberTag) == []
    assert await rows(app, MemberNote) == []
    assert await audit_rows(app, "customer.viewed") == []


async def test_a_customer_cannot_open_a_profile_with_a_forged_button(app: App) -> None:
    other = await make_member(app, "Nok", "089-999-0000")
    chat, _ = await member_chat(app, "Ploy", "081-234-5678", locale="en")
    await chat.press(f"cust:show:{other.id}")
    assert "089" not in chat.text()
    assert await audit_rows(app, "customer.viewed") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("081 234 5678 +vip -new", ("081 234 5678", "+vip -new")),
        ("+66 81 234 5678 likes tea", ("+66 81 234 5678", "likes tea")),
        ("CRM:ABCD2345 note text", ("CRM:ABCD2345", "note text")),
        ("abcd2345", ("abcd2345", "")),
        ("nobody here", ("nobody", "here")),
    ],
)
def test_split_member_finds_the_words_that_name_the_member(
    text: str, expected: tuple[str, str]
) -> None:
    assert split_member(text) == expected


async def test_erasing_a_member_removes_staff_notes_and_tags(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678")
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/note 0812345678 allergic to peanuts")
    await cashier.say("/tag 0812345678 +vip")
    async with app.uow() as uow:
        member = await uow.members.get(ploy.id)
        assert member is not None
        await uow.erasure.erase_member(member, app.clock.now())
        await uow.commit()
    assert await rows(app, MemberNote) == []
    assert await rows(app, MemberTag) == []


async def test_erasing_an_imported_member_removes_the_phone_from_their_ledger_keys(
    app: App,
) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678")
    async with app.uow() as uow:
        await uow.points.append(
            ploy.id, 120, "import", app.clock.now(), idempotency_key="import:+66812345678"
        )
        member = await uow.members.get(ploy.id)
        assert member is not None
        await uow.erasure.erase_member(member, app.clock.now())
        await uow.commit()
    entries = await rows(app, PointsEntry)
    keys = [entry.idempotency_key or "" for entry in entries if entry.reason == "import"]
    assert len(keys) == 1  # the points stay in the shop's history
    assert keys[0].startswith("import:erased:")
    assert all("812345678" not in (entry.idempotency_key or "") for entry in entries)
