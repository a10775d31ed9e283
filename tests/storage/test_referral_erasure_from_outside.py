"""A friend's data in the inviter's records, from outside: Nok joins with Ploy's invite and
buys, so Ploy is told and paid; then Nok erases herself with /deleteme. PDPA: nothing of Nok
(her name, phone) may stay in any table — the notice that named her to Ploy included — and
Ploy's /mydata (her right of access) must not hand her Nok's personal data either."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bot.bootstrap import App
from storage.models import Member, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.e2e.test_erasure_sweep import _found_in_tables
from tests.unit.journey_support import join
from tests.unit.staff_support import staff_chat

NOK_NAME = "Nokquokka Srisuk"
NOK_PHONE = "089-777-1234"
NOK_TRACES = (NOK_NAME, "Nokquokka", "0897771234", "+66897771234", "897771234")


async def _member(app: App, name: str) -> Member:
    async with app.uow() as uow:
        return (await session_of(uow).scalars(select(Member).where(Member.name == name))).one()


async def _invited_and_bought(app: App) -> tuple[Chat, Chat, Member, Member]:
    ploy = Chat(app, user_id="5553001", display_name="Ploy")
    await join(ploy, name="Ploy Inviter", phone="081-555-0001")
    inviter = await _member(app, "Ploy Inviter")
    nok = Chat(app, user_id="5553002", display_name="Nok")
    await join(nok, name=NOK_NAME, phone=NOK_PHONE, start=f"/start ref_{inviter.member_code}")
    friend = await _member(app, NOK_NAME)
    assert friend.referred_by_code == inviter.member_code
    cashier = await staff_chat(app, "5553099", "cashier", "asoke")
    await cashier.say(f"/sale {friend.member_code} 350 receipt=REF-1")
    async with app.uow() as uow:
        assert await uow.points.balance(inviter.id) > 0  # the referral was paid
    return ploy, nok, inviter, friend


async def test_after_the_friend_erases_herself_nothing_of_her_is_left(app: App) -> None:
    _, nok, _, _ = await _invited_and_bought(app)
    await nok.say("/deleteme")
    await nok.press("del:yes")
    assert await _found_in_tables(app, NOK_TRACES) == []


async def test_the_inviters_mydata_holds_no_personal_data_of_the_friend(app: App) -> None:
    ploy, _, _, _ = await _invited_and_bought(app)
    [export] = [r.attachment for r in await ploy.say("/mydata") if r.attachment is not None]
    document = export.content.decode("utf-8")
    json.loads(document)
    assert [trace for trace in NOK_TRACES if trace in document] == []


async def test_an_erased_members_invite_code_no_longer_invites(app: App) -> None:
    """Ploy's invite link stays posted where she shared it after she erased herself: a
    stranger joining through it must not be tied to her (nor pay her, nor queue her notices)."""
    ploy = Chat(app, user_id="5553011", display_name="Ploy")
    await join(ploy, name="Ploy Gone", phone="081-555-0011")
    code = (await _member(app, "Ploy Gone")).member_code
    await ploy.say("/deleteme")
    await ploy.press("del:yes")

    stranger = Chat(app, user_id="5553012", display_name="Stranger")
    await join(stranger, name="Stranger Joins", phone="089-555-0012", start=f"/start ref_{code}")
    joined = await _member(app, "Stranger Joins")
    assert joined.referred_by_code is None
    cashier = await staff_chat(app, "5553098", "cashier", "asoke")
    await cashier.say(f"/sale {joined.member_code} 350 receipt=REF-2")
    async with app.uow() as uow:
        rows = await session_of(uow).scalars(select(OutboxMessage.dedupe_key))
        assert [key for key in rows if key.startswith("referral:")] == []


async def test_a_sent_notice_to_the_inviter_keeps_no_word_of_the_erased_friend(app: App) -> None:
    """Already delivered to Ploy, the notice stays in the outbox (counted, to Ploy's chat) with
    its text gone."""
    _, nok, inviter, friend = await _invited_and_bought(app)
    key = f"referral:{friend.id}:referrer"
    async with app.uow() as uow:
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.dedupe_key == key).values(status="sent")
        )
        await uow.commit()
    await nok.say("/deleteme")
    await nok.press("del:yes")
    async with app.uow() as uow:
        [notice] = await session_of(uow).scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
        )
    assert notice.status == "sent"
    assert notice.member_id == inviter.id
    assert NOK_NAME not in json.dumps(notice.payload, ensure_ascii=False)
    assert notice.payload == {"v": 1, "replies": []}
