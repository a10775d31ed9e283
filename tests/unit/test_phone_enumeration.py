"""Issue 15, items 4 and 8: a stranger learns nothing about whose number a phone is, gets
nothing of that member's account, and a shared number never pays a referral.

A number another member holds is accepted at sign-up and in /profile, answered exactly as a
free one is, and kept *unlinked*: the person sees it as theirs, nobody is found by it, staff
see the duplicate flagged. A changed number is no longer a verified one.
"""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Reply
from storage.models import AuditEntry, Member
from tests.chat import Chat
from tests.unit.journey_support import join, rows
from tests.unit.referral_support import referral_entries
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

OWNER_PHONE = "081-234-5678"
OWNER_E164 = "+66812345678"


def transcript(replies: list[Reply], member_code: str) -> list[tuple[str, tuple[str, ...]]]:
    """What the person saw, with their own member code masked (it differs per member)."""
    return [
        (reply.text.replace(member_code, "CODE"), tuple(b.action for b in reply.buttons))
        for reply in replies
    ]


async def _sign_up(app: App, user_id: str, phone: str) -> tuple[list[Reply], Member]:
    chat = Chat(app, user_id=user_id)
    seen: list[Reply] = []
    seen += await chat.say("/start")
    seen += await chat.press("su:join")
    seen += await chat.press("su:mkt:yes")
    seen += await chat.say("Nok")
    seen += await chat.say(phone)
    seen += await chat.say("1/5/1987")
    seen += await chat.press("su:g:skip")
    [member] = await rows(app, Member, Member.name == "Nok")
    return seen, member


async def test_a_taken_number_at_sign_up_is_answered_as_a_free_one_and_kept_unlinked(
    app: App,
) -> None:
    owner = await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy", points=500)
    free_seen, free = await _sign_up(app, "free", "089-999-0000")
    async with app.uow() as uow:  # the same person again, with the taken number this time
        row = await uow.members.get(free.id)
        assert row is not None
        row.name = "Nok (first)"
        await uow.commit()
    taken_seen, stranger = await _sign_up(app, "stranger", OWNER_PHONE)
    assert transcript(taken_seen, stranger.member_code) == transcript(free_seen, free.member_code)
    assert stranger.phone is None
    assert stranger.phone_unlinked == OWNER_E164
    assert not stranger.phone_verified
    [still] = await rows(app, Member, Member.id == owner.id)
    assert still.phone == OWNER_E164
    assert still.points_balance == 500
    [flag] = await rows(app, AuditEntry, AuditEntry.action == "member.phone_duplicate")
    assert flag.member_id == stranger.id
    assert flag.details["other_member_id"] == owner.id
    assert OWNER_E164 not in str(flag.details)  # the audit log keeps no number


async def test_the_stranger_sees_the_number_as_theirs_and_nothing_of_the_owner(app: App) -> None:
    owner = await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy", points=500)
    await ensure_branches(app, ("asoke",))
    stranger = Chat(app, user_id="stranger")
    await join(stranger, name="Nok", phone=OWNER_PHONE)
    profile = (await stranger.say("/profile"))[0].text
    assert OWNER_PHONE in profile  # as /profile shows every number
    assert "500" not in (await stranger.say("/points"))[0].text
    till = await staff_chat(app, "c1", "cashier", "asoke", name="Kaew")
    await till.say(f"/sale {OWNER_PHONE} 100 receipt=R1")  # the number still finds its owner
    [nok] = await rows(app, Member, Member.name == "Nok")
    [ploy] = await rows(app, Member, Member.id == owner.id)
    assert ploy.points_balance > 500
    assert nok.points_balance == 50  # the welcome points alone
    card = "\n".join(r.text for r in await till.say(f"/customer {nok.member_code}"))
    assert ploy.member_code in card  # staff see whose number it also is


async def test_a_profile_edit_to_a_taken_number_is_answered_as_to_a_free_one(app: App) -> None:
    owner = await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy")
    nok = Chat(app, user_id="nok")
    await join(nok, name="Nok", phone="089-999-0000")
    await nok.press("prof:phone")
    free = await nok.say("088-888-0000")
    await nok.press("prof:phone")
    taken = await nok.say(OWNER_PHONE)
    free_text = [r.text.replace("088-888-0000", "PHONE") for r in free]
    taken_text = [r.text.replace(OWNER_PHONE, "PHONE") for r in taken]
    assert taken_text == free_text
    [member] = await rows(app, Member, Member.name == "Nok")
    assert (member.phone, member.phone_unlinked) == (None, OWNER_E164)
    [ploy] = await rows(app, Member, Member.id == owner.id)
    assert ploy.phone == OWNER_E164
    assert [a.member_id for a in await rows(app, AuditEntry, _duplicate())] == [member.id]
    await nok.press("prof:phone")
    await nok.say("087-777-0000")  # a free number again: linked, the flag's cause gone
    [member] = await rows(app, Member, Member.name == "Nok")
    assert (member.phone, member.phone_unlinked) == ("+66877770000", None)


def _duplicate() -> object:
    return AuditEntry.action == "member.phone_duplicate"


async def test_changing_the_phone_in_the_profile_clears_its_verification(app: App) -> None:
    await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy", phone_verified=True)
    chat = Chat(app, user_id="ploy")
    await chat.press("prof:phone")
    await chat.say("089-999-0000")
    [member] = await rows(app, Member)
    assert member.phone == "+66899990000"
    assert not member.phone_verified


async def test_sharing_the_own_contact_in_the_profile_verifies_the_new_number(app: App) -> None:
    await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy")
    chat = Chat(app, user_id="ploy")
    await chat.press("prof:phone")
    await chat.share_contact("+66899990000")
    [member] = await rows(app, Member)
    assert (member.phone, member.phone_verified) == ("+66899990000", True)


async def test_a_referee_giving_the_referrer_s_number_never_earns_a_referral(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    till = await staff_chat(app, "c1", "cashier", "asoke", name="Kaew")
    ploy = await make_member(app, "Ploy", OWNER_PHONE, user_id="ploy")
    second = Chat(app, user_id="ploy-2")
    await join(second, name="Nok", phone=OWNER_PHONE, start=f"/start ref_{ploy.member_code}")
    [nok] = await rows(app, Member, Member.name == "Nok")
    assert nok.referred_by_code == ploy.member_code
    await till.say(f"/sale {nok.member_code} 5000 receipt=R1")  # well above the minimum
    assert await referral_entries(app) == []
