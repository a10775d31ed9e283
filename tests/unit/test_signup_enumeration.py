"""Sign-up does not tell a stranger whether a phone number belongs to a member (issue 15, item
4): a typed number gets the same answer whether it is free, an imported member's or a joined
member's, and so does completing the sign-up; the owner of an imported record takes it over
with proof only."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Reply
from storage.models import ChannelIdentity, Member
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.referral_support import balance
from tests.unit.staff_support import make_member


async def at_phone_step(app: App, user_id: str) -> Chat:
    chat = Chat(app, user_id=user_id, language_code="en")
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say("Stranger")
    return chat


def seen(replies: list[Reply]) -> list[tuple[str, tuple[str, ...]]]:
    """What the person reads and can press."""
    return [(r.text, tuple(b.label for b in r.buttons)) for r in replies]


async def test_a_typed_number_gets_the_same_answer_whoever_it_belongs_to(app: App) -> None:
    await make_member(app, "Imported", "081-111-1111")  # from the POS file, no chat account
    await make_member(app, "Joined", "082-222-2222", user_id="tg-joined")
    answers = []
    for n, number in enumerate(("083-333-3333", "081-111-1111", "082-222-2222")):
        chat = await at_phone_step(app, f"stranger{n}")
        answers.append(seen(await chat.say(number)))
    assert answers[0] == answers[1] == answers[2]
    assert "already on file" in answers[0][0][0]  # the owner's way in is named to everyone
    assert len(await rows(app, Member)) == 2


async def test_the_owner_who_typed_the_number_joins_like_anyone_and_the_record_is_kept(
    app: App,
) -> None:
    """Completing the sign-up does not tell either (issue 15, item 4): the typed number of an
    imported record is kept unlinked and flagged for staff, the record is untouched. The
    owner's way in is the proof the phone step names to everyone (``test_claim``)."""
    ploy = await make_member(app, "Ploy S.", "081-234-5678", points=300)
    chat = await at_phone_step(app, "tg1")
    await chat.say("081-234-5678")
    await chat.say("1/5/1987")
    joined = await chat.press("su:g:female")
    assert "Stranger" in joined[0].text  # welcomed, as with any number
    [stranger] = await rows(app, Member, Member.name == "Stranger")
    assert (stranger.phone, stranger.phone_unlinked) == (None, "+66812345678")
    assert await rows(app, ChannelIdentity, ChannelIdentity.member_id == ploy.id) == []
    assert await balance(app, ploy.id) == 300
