"""Staff invites and ``/claim``: one-time codes from the CLI and the bot, guessing throttled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.cli_staff import InviteError, invite_lines
from bot.core.clock import FrozenClock
from bot.i18n import t
from handlers.staff.claim import FAILURE_LIMIT, WINDOW
from handlers.staff.invites import new_invite_code, normalise_invite_code
from storage.models import StaffInvite
from storage.raw_session import session_of
from storage.repositories.staff import code_hash
from tests.chat import Chat
from tests.unit.staff_support import (
    audit_rows,
    ensure_branch,
    make_member,
    staff_chat,
    staff_of,
)

CODE_SHAPE = re.compile(r"[23456789A-HJKMNP-Z]{4}(-[23456789A-HJKMNP-Z]{4}){3}")


async def cli_code(app: App, role: str = "cashier", branch: str | None = None) -> str:
    return (await invite_lines(app, role, branch, 7))[-1]


def test_an_invite_code_is_four_groups_of_four_unambiguous_characters() -> None:
    codes = {new_invite_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE_SHAPE.fullmatch(code) for code in codes)


def test_a_typed_code_is_read_in_any_case_with_or_without_dashes() -> None:
    assert normalise_invite_code(" k7qx m2pa-9rtd hw4c ") == "K7QX-M2PA-9RTD-HW4C"
    assert normalise_invite_code("K7QXM2PA9RTDHW4C") == "K7QX-M2PA-9RTD-HW4C"
    assert normalise_invite_code("K7QX-M2PA") is None
    assert normalise_invite_code("O0O0-1111-IIII-LLLL") is None


async def test_the_cli_prints_the_code_alone_on_the_last_line_and_stores_only_its_hash(
    app: App,
) -> None:
    lines = await invite_lines(app, "owner", None, 7)
    code = lines[-1]
    assert CODE_SHAPE.fullmatch(code)
    assert all(code not in line for line in lines[:-1])
    async with app.uow() as uow:
        invite = (await session_of(uow).execute(select(StaffInvite))).scalar_one()
    assert invite.code_hash == code_hash(code)
    assert (invite.role, invite.branch_id, invite.created_by) == ("owner", None, "cli")
    assert invite.expires_at == app.clock.now() + timedelta(days=7)


async def test_the_cli_invite_is_audited_with_actor_cli(app: App) -> None:
    await ensure_branch(app, "asoke")
    await cli_code(app, "cashier", "asoke")
    [entry] = await audit_rows(app, "staff.invited")
    assert entry.actor == "cli"
    assert entry.details["role"] == "cashier"
    assert entry.details["branch"] == "asoke"


async def test_the_cli_refuses_an_unknown_branch_naming_the_known_ones(app: App) -> None:
    await ensure_branch(app, "asoke")
    with pytest.raises(InviteError, match="asoke"):
        await invite_lines(app, "cashier", "nowhere", 7)
    assert await audit_rows(app) == []


async def test_a_cli_invite_claimed_makes_the_chat_account_staff_with_role_and_branch(
    app: App,
) -> None:
    branch_id = await ensure_branch(app, "asoke")
    code = await cli_code(app, "cashier", "asoke")
    chat = Chat(app, user_id="c1", display_name="Nok")
    replies = await chat.say(f"/claim {code}")
    assert "Nok" in replies[0].text
    staff = await staff_of(app, "c1")
    assert staff is not None
    assert staff.active
    assert (staff.role, staff.branch_id, staff.name) == ("cashier", branch_id, "Nok")


async def test_the_claim_reply_asks_the_channel_for_the_staff_menu(app: App) -> None:
    code = await cli_code(app, "manager")
    replies = await Chat(app, user_id="m1").say(f"/claim {code}")
    assert replies[-1].meta == {"menu": "manager", "locale": "th"}
    assert "/staff" in replies[-1].text


async def test_a_member_who_claims_is_staff_under_their_member_name(app: App) -> None:
    await make_member(app, "Ploy Sawasdee", "0812345678", user_id="u9")
    code = await cli_code(app)
    await Chat(app, user_id="u9", display_name="ploy_tg").say(f"/claim {code}")
    staff = await staff_of(app, "u9")
    assert staff is not None
    assert staff.name == "Ploy Sawasdee"


async def test_the_claim_is_audited_with_invite_role_and_inviter(app: App) -> None:
    code = await cli_code(app, "owner")
    await Chat(app, user_id="o1").say(f"/claim {code}")
    [entry] = await audit_rows(app, "staff.claimed")
    staff = await staff_of(app, "o1")
    assert staff is not None
    assert entry.actor == f"staff:{staff.id}"
    assert entry.details["role"] == "owner"
    assert entry.details["invited_by"] == "cli"
    assert entry.channel == "telegram"


async def test_a_code_works_only_once(app: App) -> None:
    code = await cli_code(app)
    await Chat(app, user_id="a").say(f"/claim {code}")
    second = Chat(app, user_id="b")
    await second.say(f"/claim {code}")
    assert second.text() == t("th", "staff.claim_invalid")
    assert await staff_of(app, "b") is None


async def test_an_expired_code_is_refused(app: App, clock: FrozenClock) -> None:
    code = await cli_code(app)
    clock.advance(timedelta(days=7, seconds=1))
    chat = Chat(app, user_id="late")
    await chat.say(f"/claim {code}")
    assert chat.text() == t("th", "staff.claim_invalid")
    assert await staff_of(app, "late") is None


async def test_a_wrong_code_is_refused_and_audited_as_a_failed_claim(app: App) -> None:
    await cli_code(app)
    chat = Chat(app, user_id="guess")
    await chat.say("/claim AAAA-BBBB-CCCC-DDDD")
    assert chat.text() == t("th", "staff.claim_invalid")
    [entry] = await audit_rows(app, "staff.claim_failed")
    assert entry.actor == "telegram:guess"


async def test_claim_without_a_code_explains_and_counts_nothing(app: App) -> None:
    chat = Chat(app, user_id="x")
    await chat.say("/claim")
    assert chat.text() == t("th", "staff.claim_usage")
    assert await audit_rows(app, "staff.claim_failed") == []


async def test_guessing_is_locked_after_five_failures_even_for_a_valid_code(app: App) -> None:
    code = await cli_code(app)
    chat = Chat(app, user_id="guess")
    for _ in range(FAILURE_LIMIT):
        await chat.say("/claim AAAA-BBBB-CCCC-DDDD")
    await chat.say(f"/claim {code}")
    assert chat.text() == t("th", "staff.claim_locked", minutes=15)
    assert await staff_of(app, "guess") is None


async def test_the_lock_lifts_when_the_failures_are_older_than_the_window(
    app: App, clock: FrozenClock
) -> None:
    code = await cli_code(app)
    chat = Chat(app, user_id="guess")
    for _ in range(FAILURE_LIMIT):
        await chat.say("/claim AAAA-BBBB-CCCC-DDDD")
    clock.advance(WINDOW + timedelta(seconds=1))
    await chat.say(f"/claim {code}")
    assert await staff_of(app, "guess") is not None


async def test_the_lock_is_per_chat_account(app: App) -> None:
    code = await cli_code(app)
    guesser = Chat(app, user_id="guess")
    for _ in range(FAILURE_LIMIT):
        await guesser.say("/claim AAAA-BBBB-CCCC-DDDD")
    await Chat(app, user_id="honest").say(f"/claim {code}")
    assert await staff_of(app, "honest") is not None


async def test_someone_already_staff_keeps_their_role_and_the_code_stays_unused(
    app: App,
) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    code = await cli_code(app, "owner")
    await cashier.say(f"/claim {code}")
    assert cashier.text() == t("th", "staff.already_staff", role=t("th", "staff.role_cashier"))
    staff = await staff_of(app, "c1")
    assert staff is not None
    assert staff.role == "cashier"
    await Chat(app, user_id="real-owner").say(f"/claim {code}")
    assert await staff_of(app, "real-owner") is not None


async def test_a_removed_staff_member_can_be_invited_again(app: App) -> None:
    await staff_chat(app, "c1", "cashier")
    async with app.uow() as uow:
        staff = await uow.staff.by_identity("telegram", "c1")
        assert staff is not None
        staff.active = False
        await uow.commit()
    code = await cli_code(app, "manager")
    await Chat(app, user_id="c1").say(f"/claim {code}")
    again = await staff_of(app, "c1")
    assert again is not None
    assert again.active
    assert again.role == "manager"
