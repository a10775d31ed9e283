"""What an owner can paste into the console's forms (over HTTP) that the chat cleans or
refuses: a superscript digit where a number goes, a NUL character in a name, a message, a
search or an answer to a customer.
The chat's adapters drop NULs (``bot.channels.text.clean``: PostgreSQL's text cannot hold
them) and its parsers refuse what is no number; the console must do as well as the chat:
a refusal in the owner's language, or the text stored cleaned, never an error page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from storage.models import Branch, Campaign
from storage.raw_session import session_of
from tests.storage.test_console_double_submit import CAMPAIGN
from tests.unit.admin_support import console_client, signed_in
from tests.unit.inbox_support import thread_messages, threads
from tests.unit.staff_support import ensure_branches, make_member, member_chat, staff_chat


async def _campaigns(app: App) -> list[Campaign]:
    async with app.uow() as uow:
        return list((await session_of(uow).execute(select(Campaign))).scalars().all())


async def test_a_superscript_hold_out_is_refused_with_the_wizards_reason(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    await make_member(app, "Ploy", "0810000001", user_id="601", home_branch_code="asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answer = await browser.post("/admin/campaigns/new", CAMPAIGN | {"holdout": "1\u00b2"})
        assert answer.status == 400
        assert 'id="error"' in await answer.text()
    assert await _campaigns(app) == []


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/campaigns/new", CAMPAIGN | {"name": "Weekday\x00 afternoons"}),
        ("/admin/campaigns/new", CAMPAIGN | {"message": "คุณ{name}\x00 รับ 1 แถม 1"}),
        ("/admin/settings/branches/asoke/rename", {"name_th": "อโศก\x00", "name_en": "Asoke"}),
    ],
    ids=["campaign-name", "campaign-message", "branch-name"],
)
async def test_a_nul_in_a_console_text_field_is_no_error_page(
    app: App, path: str, form: dict[str, str]
) -> None:
    await ensure_branches(app, ("asoke",))
    await make_member(app, "Ploy", "0810000001", user_id="601", home_branch_code="asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answer = await browser.post(path, form)
        assert answer.status in (303, 400), answer.status
    async with app.uow() as uow:
        names = (await session_of(uow).execute(select(Branch.name_th))).scalars().all()
    assert all("\x00" not in name for name in names)
    assert all("\x00" not in (c.name + c.message) for c in await _campaigns(app))


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/members", {"q": "Pl\x00oy"}),
        ("/admin/members/filter", {"rule": "tag = a\x00b"}),
        ("/admin/inbox/{thread}/reply", {"text": "We open at 10\x00"}),
    ],
    ids=["member-search", "member-filter", "inbox-reply"],
)
async def test_a_nul_in_a_console_search_or_reply_is_no_error_page(
    app: App, path: str, form: dict[str, str]
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    chat, _ = await member_chat(app, name="Ploy Chaiyo")
    await chat.say("What time do you open tomorrow?")
    [thread] = await threads(app)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answer = await browser.post(path.format(thread=thread.id), form)
        assert answer.status in (200, 303), answer.status
    messages = await thread_messages(app, thread.id)
    assert all("\x00" not in message.text for message in messages)


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("get", "/admin/members?after=1%C2%B2", {}),
        ("post", "/admin/members", {"q": "Ploy", "after": "1\u00b2"}),
        ("post", "/admin/members/filter", {"rule": "points >= 0", "after": "\u00b2"}),
    ],
    ids=["member-list", "member-search", "member-filter"],
)
async def test_a_superscript_page_cursor_shows_the_first_page(
    app: App, method: str, path: str, form: dict[str, str]
) -> None:
    """``after`` names the last member of the page before; ``²`` passes ``str.isdigit`` but is
    no number, so it names none and the first page shows."""
    await make_member(app, "Ploy", "0810000001", user_id="601")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answer = await (browser.get(path) if method == "get" else browser.post(path, form))
        assert answer.status == 200, answer.status
        assert "Ploy" in await answer.text()
