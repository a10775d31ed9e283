"""Looking a customer up the way staff type it, in the chat (``/customer``) and in the console's
member search: a Thai first or last name, a phone in Thai digits or with +66, an English name
in any case — and the names whose stored form differs from what a person types: a zero-width
space a LINE display name carried in (Thai text uses it between words, invisibly), and a
foreign customer's name in capitals with accents."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from storage.models import Member
from tests.chat import Chat
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import make_member, staff_chat


async def _shop(app: App) -> tuple[Chat, dict[str, Member]]:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    members = {
        "somchai": await make_member(app, "สมชาย ใจดี", "0812345678", user_id="m1"),
        "john": await make_member(app, "John Smith", "0898765432", user_id="m2"),
    }
    return owner, members


def _found(owner: Chat, member: Member) -> bool:
    return member.member_code in owner.text()


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("สมชาย", "somchai"),
        ("ใจดี", "somchai"),
        ("สมชาย ใจดี", "somchai"),
        ("๐๘๑๒๓๔๕๖๗๘", "somchai"),
        ("๐๘๑-๒๓๔-๕๖๗๘", "somchai"),
        ("+66 81 234 5678", "somchai"),
        ("john", "john"),
        ("JOHN SMITH", "john"),
        ("sMiTh", "john"),
    ],
)
async def test_a_customer_is_found_by_what_staff_type_in_the_chat(
    app: App, typed: str, who: str
) -> None:
    owner, members = await _shop(app)
    await owner.say(f"/customer {typed}")
    assert _found(owner, members[who]), owner.text()
    other = members["john" if who == "somchai" else "somchai"]
    assert not _found(owner, other)


@pytest.mark.parametrize("typed", ["5678", "๕๖๗๘", "สมหญิง", "<b>สมชาย</b>"])
async def test_what_names_nobody_is_answered_in_the_staffs_language(app: App, typed: str) -> None:
    """A phone's last four digits are no lookup (README: a phone in any Thai format, a code or
    a name): the answer says nobody was found, quoting what was typed, in Thai for Thai staff."""
    await _shop(app)
    staff = await staff_chat(app, "o2", "owner", language_code="th")
    await staff.say(f"/customer {typed}")
    assert typed in staff.text(), staff.text()
    assert "No member" not in staff.text()


async def test_the_console_search_finds_a_thai_name_and_a_thai_digit_phone(app: App) -> None:
    owner, members = await _shop(app)
    somchai = members["somchai"]
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for typed in ("ใจดี", "๐๘๑ ๒๓๔ ๕๖๗๘", "สมชาย ใจดี"):
            page = await (await browser.post("/admin/members", {"q": typed})).text()
            assert f'href="/admin/members/{somchai.id}"' in page, typed
            assert f'href="/admin/members/{members["john"].id}"' not in page, typed


async def test_a_name_holding_a_zero_width_space_is_found_as_staff_type_it(app: App) -> None:
    """``พลอย\u200bสวย`` reads "พลอยสวย" on every screen; a cashier types what they read."""
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = await make_member(app, "พลอย\u200bสวย", "0861112222", user_id="m3")
    await owner.say("/customer พลอย")  # a part without the invisible character: found
    assert _found(owner, ploy), owner.text()
    await owner.say("/customer พลอยสวย")
    assert _found(owner, ploy), owner.text()


async def test_a_foreign_name_in_accented_capitals_is_found_typed_exactly(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    jose = await make_member(app, "JOSÉ ÁLVAREZ", "0812345678", user_id="m1")
    await owner.say("/customer JOSÉ")
    assert _found(owner, jose), owner.text()
    await owner.say("/customer álvarez")
    assert _found(owner, jose), owner.text()
