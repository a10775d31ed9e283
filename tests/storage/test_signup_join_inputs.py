"""The sign-up's last step (``storage/repositories/joining.py``) with the numbers and names the
outside gives it: a number an erased member had, a number someone else gave but does not
hold, names with Thai, emoji, combining marks and surrogates, and a referral code."""

from __future__ import annotations

import itertools

import pytest

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Member
from tests.chat import Chat
from tests.storage.join_edges_support import (
    LAST,
    PHONE,
    press_as,
    text_of,
    to_last_step,
    written,
)
from tests.unit.referral_support import first_sale_then_referral, join_sharing_contact

_ids = itertools.count(1)


async def _erase(app: App, member_id: int) -> None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        await uow.erasure.erase_member(member, app.clock.now())
        await uow.commit()


async def _join(app: App, user_id: str, name: str, event_id: str | None = None) -> list[str]:
    """The whole sign-up with the number 081-234-5678, its last event's id ``event_id``."""
    chat = Chat(app, user_id=user_id)
    await to_last_step(chat, name, "0812345678")
    last = event_id or f"last:{next(_ids)}"
    return [reply.text for reply in await press_as(chat, LAST, last)]


def _duplicates(audit: list[tuple[str, int | None]]) -> list[int | None]:
    return [member for action, member in audit if action == "member.phone_duplicate"]


async def test_a_number_an_erased_member_had_is_free_again(app: App) -> None:
    """Erasure clears the number: the next sign-up with it (the same chat account, or
    another) is linked to it, not flagged; replaying the erased one's last event changes
    nothing."""
    await _join(app, "old", "Ploy", "last:old")
    (old,) = (await written(app)).members
    await _erase(app, old.id)
    again = await _join(app, "old", "Ploy again")
    assert t("th", "signup.done", name="Ploy again", points=50) in again
    assert await press_as(Chat(app, user_id="old"), LAST, "last:old") == []  # the old replay
    found = await written(app)
    erased, new = found.members
    assert (erased.id, erased.phone, erased.phone_unlinked, erased.name) == (
        old.id,
        None,
        None,
        None,
    )
    assert erased.erased_at is not None
    assert (new.name, new.phone, new.phone_unlinked) == ("Ploy again", PHONE, None)
    assert found.links == {"old": new.id}
    assert found.points[new.id] == [(50, "welcome")]
    assert _duplicates(found.audit) == []


async def test_a_number_only_given_unlinked_elsewhere_is_linked_to_the_new_member(
    app: App,
) -> None:
    """Only a member's ``phone`` holds a number: one kept unlinked by someone else (who gave
    it while it was held) does not, so the next sign-up with it links it."""
    await _join(app, "holder", "Holder")
    await _join(app, "second", "Second")  # held: kept unlinked and flagged
    holder, second = (await written(app)).members
    assert (second.phone, second.phone_unlinked) == (None, PHONE)
    await _erase(app, holder.id)  # now nobody holds it; Second still has it unlinked
    replies = await _join(app, "third", "Third")
    assert t("th", "signup.done", name="Third", points=50) in replies
    found = await written(app)
    third = found.member("Third")
    assert (third.phone, third.phone_unlinked) == (PHONE, None)
    assert found.member("Second").phone_unlinked == PHONE  # left as it was
    assert _duplicates(found.audit) == [second.id]  # Third is not flagged


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # Thai with tone marks and sara am, a skin-toned ZWJ emoji, a combining acute (NFC)
        ("พลอย ก่ำ 👩🏽‍💻 Zoe\u0301", "พลอย ก่ำ 👩🏽‍💻 Zoé"),
        # 100 astral characters: the cap counts code points, not UTF-16 units
        ("𝕻" * 100, "𝕻" * 100),
        # 200 characters: cut at 100, where a zero-width joiner would have dangled
        ("😀" * 99 + "\u200d" + "ก" * 100, "😀" * 99),
        # a lone surrogate (half an emoji) is dropped, whole emoji at both ends kept
        ("🌸Ploy\ud83d🌸", "🌸Ploy🌸"),
    ],
)
async def test_names_are_stored_and_shown_back_exactly(app: App, typed: str, stored: str) -> None:
    replies = await _join(app, "a", typed)
    assert t("th", "signup.done", name=stored, points=50) in replies
    found = await written(app)
    assert [m.name for m in found.members] == [stored]
    assert found.links == {"a": found.members[0].id}
    profile = "\n".join(r.text for r in await Chat(app, user_id="a").say("/profile"))
    assert stored in profile


async def test_a_referral_through_the_last_step_credits_as_before(app: App) -> None:
    """The referrer's code is kept by the one-statement member, also when the newcomer's
    number is held (kept unlinked), and the first purchase pays both; an erased referrer's
    code is dropped."""
    await _join(app, "ploy", "Ploy")
    (ploy,) = (await written(app)).members
    await join_sharing_contact(
        Chat(app, user_id="nok"), "Nok", "+66899990000", f"/start ref_{ploy.member_code}"
    )
    kept = Chat(app, user_id="kept")
    await kept.say(f"/start ref_{ploy.member_code}")
    await kept.press("su:join")
    await kept.press("su:mkt:no")
    await kept.say("Kept")
    await kept.say("0812345678")  # Ploy's number: kept unlinked
    await kept.say("1/5/1987")
    assert "Kept" in text_of(await kept.press(LAST))
    found = await written(app)
    nok, kept_member = found.member("Nok"), found.member("Kept")
    assert nok.referred_by_code == kept_member.referred_by_code == ploy.member_code
    assert (nok.phone, nok.phone_verified) == ("+66899990000", True)
    assert found.consents[kept_member.id] == [("membership", True), ("marketing", False)]
    payout = await first_sale_then_referral(app, nok.id)
    assert payout is not None
    assert payout.points == 100
    points = (await written(app)).points
    assert points[nok.id] == [(50, "welcome"), (100, "referral")]
    assert points[ploy.id] == [(50, "welcome"), (100, "referral")]
    await _erase(app, ploy.id)
    await join_sharing_contact(
        Chat(app, user_id="late"), "Late", "+66877770000", f"/start ref_{ploy.member_code}"
    )
    late: Member = (await written(app)).member("Late")
    assert late.referred_by_code is None
