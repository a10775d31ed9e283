"""The statements of the sign-up's last step (the one that writes the member), pinned so they
cannot grow back: it was the slowest common update of the realistic mix.

The member is written by one statement that decides from the table whether its number is free
(on PostgreSQL with the chat account's link and both consents in it; on SQLite those two travel
with the next statement); its welcome points are a credit under a key nobody can have used (on
SQLite the entry travels with the balance's UPDATE).
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from handlers.customer.signup import MARKETING_WORDING, MEMBERSHIP_WORDING
from storage.models import AuditEntry, ChannelIdentity, Member
from storage.repositories import joining
from tests.chat import Chat
from tests.unit.journey_support import add_branches, consents, points, rows
from tests.unit.statement_trace import traced, trips


def _pg(app: App) -> bool:
    return app.engine.dialect.name == "postgresql"


async def _up_to_the_branch(chat: Chat, phone: str) -> None:
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:no")
    await chat.say("Ploy")
    await chat.say(phone)
    await chat.say("01/05/2530")
    await chat.press("su:g:female")


async def _someone_joined(app: App, branch_id: int) -> None:
    """A member who joined before: the shop's settings read once, as in a running shop."""
    other = Chat(app, channel=Channel.LINE, user_id="U" + "z" * 32)
    await _up_to_the_branch(other, "089-999-0000")
    await other.press(f"su:b:{branch_id}")


def _along(seen: list[tuple[str, str]]) -> list[str]:
    """The first words of what travelled with another statement (SQLite)."""
    return [" ".join(sql.split()[:3]) for how, sql in seen if how == "along"]


async def test_the_last_step_writes_the_member_in_few_statements(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch_ids = await add_branches(app)
    await _someone_joined(app, branch_ids["asoke"])
    chat = Chat(app, channel=Channel.LINE, user_id=f"U{'a' * 32}")
    await _up_to_the_branch(chat, "081-234-5678")
    with traced(app, monkeypatch) as seen:
        replies = await chat.press(f"su:b:{branch_ids['ratchada']}")

    [member] = [m for m in await rows(app, Member) if m.phone == "+66812345678"]
    assert (member.name, member.phone, member.phone_unlinked) == ("Ploy", "+66812345678", None)
    assert (member.birthday, member.home_branch_id) == (date(1987, 5, 1), branch_ids["ratchada"])
    assert (member.points_balance, member.marketing_opt_in, member.phone_verified) == (
        50,
        False,
        False,
    )
    assert await consents(app, member.id) == [
        ("membership", True, MEMBERSHIP_WORDING),
        ("marketing", False, MARKETING_WORDING),
    ]
    assert await points(app, member.id) == [(50, "welcome")]
    [identity] = await rows(app, ChannelIdentity, ChannelIdentity.user_id == chat.user_id)
    assert identity.member_id == member.id
    audit = await rows(app, AuditEntry, AuditEntry.member_id == member.id)
    assert [a.action for a in audit] == ["member.joined"]
    assert member.member_code in replies[-1].text
    assert replies[-1].card is not None
    assert replies[-1].card.points == 50
    # the arrival; the branches (the answer checked); the member, linked, with its consents;
    # the welcome points (PostgreSQL: the balance and the entry in one statement); the audit
    # row; the card's spend and ledger; the flow's end (SQLite: sent along)
    if _pg(app):
        assert trips(seen) == ["WITH", "SELECT", "WITH", "WITH", "INSERT", "SELECT", "DELETE"]
    else:
        assert trips(seen) == ["SELECT", "SELECT", "INSERT", "UPDATE", "INSERT", "SELECT"]
        assert _along(seen) == [
            "INSERT INTO processed_events",
            "UPDATE channel_identities SET",
            "INSERT INTO consents",
            "INSERT INTO points_ledger",
            "DELETE FROM conversation_states",
        ]


async def test_a_held_number_is_kept_unlinked_in_the_same_statement(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch_ids = await add_branches(app)
    first = Chat(app, channel=Channel.LINE, user_id="U" + "a" * 32)
    await _up_to_the_branch(first, "081-234-5678")
    await first.press(f"su:b:{branch_ids['asoke']}")
    second = Chat(app, channel=Channel.LINE, user_id="U" + "b" * 32)
    await _up_to_the_branch(second, "081-234-5678")
    with traced(app, monkeypatch) as seen:
        await second.press(f"su:b:{branch_ids['asoke']}")

    holder, member = sorted(await rows(app, Member), key=lambda m: m.id)
    assert (member.phone, member.phone_unlinked) == (None, "+66812345678")
    assert holder.phone == "+66812345678"
    duplicate = await rows(app, AuditEntry, AuditEntry.action == "member.phone_duplicate")
    assert [(a.member_id, a.details.get("other_member_id")) for a in duplicate] == [
        (member.id, holder.id)
    ]
    assert await points(app, member.id) == [(50, "welcome")]
    # as a free number's, and the holder's read for the staff's flag and its audit row
    words = trips(seen)
    assert words[3] == "SELECT"
    assert words.count("INSERT") == (2 if _pg(app) else 3)
    assert len(words) == (9 if _pg(app) else 8)


async def _second_the_careful_way(app: App, monkeypatch: pytest.MonkeyPatch) -> Member:
    """Two sign-ups; the second draws the first's member code, so it takes the careful way.
    The member the first wrote (by the one statement)."""
    first = Chat(app, user_id="a")
    await _up_to_the_branch(first, "081-234-5678")
    [taken] = await rows(app, Member)
    monkeypatch.setattr(joining, "new_member_code", lambda: taken.member_code)
    second = Chat(app, user_id="b")
    await _up_to_the_branch(second, "081-234-5679")
    return taken


async def test_a_drawn_code_already_taken_takes_the_careful_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = await _second_the_careful_way(app, monkeypatch)

    members = sorted(await rows(app, Member), key=lambda m: m.id)
    assert len(members) == 2
    assert members[1].member_code != taken.member_code
    assert members[1].phone == "+66812345679"
    assert await consents(app, members[1].id) == [
        ("membership", True, MEMBERSHIP_WORDING),
        ("marketing", False, MARKETING_WORDING),
    ]
    assert await points(app, members[1].id) == [(50, "welcome")]
    linked = {i.user_id: i.member_id for i in await rows(app, ChannelIdentity)}
    assert linked == {"a": members[0].id, "b": members[1].id}


async def test_both_ways_write_the_same_member_row(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one statement lists the member's columns itself: a column it left out (a new one
    with a Python-side default, say) would be written NULL there and not by the ORM's way."""
    await _second_the_careful_way(app, monkeypatch)

    one, careful = sorted(await rows(app, Member), key=lambda m: m.id)
    own = {"id", "member_code", "phone", "joined_at"}
    columns = [c.key for c in Member.__table__.columns if c.key not in own]

    def row(member: Member) -> dict[str, object]:
        return {key: getattr(member, key) for key in columns}

    assert row(one) == row(careful)
    assert one.locale == careful.locale
    assert (one.points_balance, one.tier, one.phone_verified) == (50, None, False)
