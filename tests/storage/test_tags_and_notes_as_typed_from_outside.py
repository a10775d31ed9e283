"""``/tag`` and ``/note`` as Thai staff type them: Thai tags, a tag in capitals, a minus from a
phone keyboard, a Thai word copied from a chat with the zero-width space Thai text carries
between words, a note over the limit and a note of two lines. What is stored is what a
segment rule later finds; what is refused is said in the staff's language."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, make_member, staff_chat

PHONE = "0811111111"


async def _desk(app: App, language: str = "th") -> tuple[Chat, int]:
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    member = await make_member(app, "Ploy", PHONE, user_id="m1")
    return owner, member.id


async def _tags(app: App, member_id: int) -> list[str]:
    async with app.uow() as uow:
        return await uow.people.tags(member_id)


async def test_thai_and_capitalised_tags_are_kept_once_and_found_by_a_rule(app: App) -> None:
    owner, ploy = await _desk(app)
    await owner.say(f"/tag {PHONE} +ลูกค้าประจำ +VIP")
    await owner.say(f"/tag {PHONE} +vip")
    assert await _tags(app, ploy) == ["vip", "ลูกค้าประจำ"], owner.text()
    await owner.say("/segment new ประจำ tag = ลูกค้าประจำ and tag = VIP")
    assert "1 คน" in owner.text(), owner.text()
    await owner.say(f"/tag {PHONE} -VIP")
    assert await _tags(app, ploy) == ["ลูกค้าประจำ"]


async def test_a_tag_holding_markup_is_refused_in_the_staffs_language(app: App) -> None:
    owner, ploy = await _desk(app)
    await owner.say(f"/tag {PHONE} +<b>x</b>")
    assert "ใช้เป็นแท็กไม่ได้" in owner.text(), owner.text()
    assert await _tags(app, ploy) == []


async def test_a_tag_removed_with_a_phone_keyboards_minus_is_removed(app: App) -> None:
    owner, ploy = await _desk(app, "en")
    await owner.say(f"/tag {PHONE} +vip")
    await owner.say(f"/tag {PHONE} −vip")
    assert await _tags(app, ploy) == [], owner.text()


async def test_a_thai_tag_copied_with_a_zero_width_space_is_the_tag_staff_see(app: App) -> None:
    owner, ploy = await _desk(app)
    await owner.say(f"/tag {PHONE} +ลูกค้าประจำ")
    await owner.say(f"/tag {PHONE} +ลูกค้า\u200bประจำ")
    assert "ใช้เป็นแท็กไม่ได้" not in owner.text(), owner.text()
    assert await _tags(app, ploy) == ["ลูกค้าประจำ"]


async def test_the_console_s_tag_form_reads_the_phone_minus_and_zero_width_space_as_chat(
    app: App,
) -> None:
    owner, ploy = await _desk(app, "en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = f"/admin/members/{ploy}"
        await browser.get(page)
        added = await browser.post(f"{page}/tags", {"tags": "+ลูกค้า\u200bประจำ vip"})
        assert added.status == 303, await added.text()
        removed = await browser.post(f"{page}/tags", {"tags": "−vip"})
        assert removed.status == 303, await removed.text()
    assert await _tags(app, ploy) == ["ลูกค้าประจำ"]


async def test_a_note_too_long_is_refused_with_its_length_and_a_two_line_note_kept(
    app: App,
) -> None:
    owner, ploy = await _desk(app)
    await owner.say(f"/note {PHONE} " + "ก" * 5000)
    assert owner.text() == t("th", "note.too_long", max=500, length="5,000"), owner.text()
    assert await audit_rows(app, "member.noted") == []
    await owner.say(f"/note {PHONE} ชอบหวานน้อย\nไม่ใส่น้ำแข็ง & <i>ขอหลอด</i>")
    await owner.say(f"/customer {PHONE}")
    assert "ชอบหวานน้อย\nไม่ใส่น้ำแข็ง & <i>ขอหลอด</i>" in owner.text(), owner.text()
    assert ploy
