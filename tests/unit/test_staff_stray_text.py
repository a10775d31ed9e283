"""What staff type outside a command: a cashier's `/sale` sent without its slash was a message
to the shop's inbox ("Thank you for your message!"), no sale recorded and every colleague
alerted with it. A staff account that is no member is told its text went nowhere and how
commands are typed; one that is also a member writes to the shop as the customer it is."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.inbox_support import threads
from tests.unit.staff_support import make_member, outbox_rows, staff_chat


async def test_a_sale_typed_without_its_slash_is_no_message_to_the_shop(app: App) -> None:
    await staff_chat(app, "own1", "owner")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    await make_member(app, "Ploy", "081-234-5678")
    await cashier.say("sale 0812345678 120")
    assert cashier.text() == t("en", "inbox.staff_text")
    assert "/sale" in cashier.text()
    assert await threads(app) == []
    assert [row for row in await outbox_rows(app) if row.user_id == "own1"] == []


async def test_the_owner_is_told_in_thai_too(app: App) -> None:
    owner = await staff_chat(app, "own1", "owner")
    await owner.say("ABCD-EFGH-JKMNP")  # a coupon code typed after its question ended
    assert owner.text() == t("th", "inbox.staff_text")
    assert await threads(app) == []


async def test_a_cashier_who_is_a_member_still_writes_to_the_shop(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    member = await make_member(app, "Nok", "082-222-2222")
    async with app.uow() as uow:
        identity = await uow.identities.touch("telegram", "c1", app.clock.now(), "Nok", "th")
        identity.member_id = member.id
        await uow.commit()
    await cashier.say("พรุ่งนี้ขอลาครึ่งวันนะคะ")
    assert cashier.text() == t("th", "inbox.received")
    [thread] = await threads(app)
    assert thread.member_id == member.id
