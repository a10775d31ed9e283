"""Two people at two terminals on one database: each sees only the messages meant for them.

Both run ``chatcrm chat`` (:func:`bot.server.chat`, scheduler and dispatcher included) at the
same time against the test database. The cashier rings up a sale over the daily cap; the
approval request for the owner waits in the outbox (the cashier's terminal must not show it)
until the owner's terminal shows it; the owner approves, and the answer for the cashier reaches
the cashier's terminal, not the owner's.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select

from bot.bootstrap import App
from bot.config import Settings
from bot.core.messages import Channel
from bot.i18n import t
from handlers.staff.sale_notices import member_label
from storage.db import is_sqlite
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.conftest import PG_SCHEMA
from tests.unit.console_support import Terminal
from tests.unit.staff_support import ensure_branches, make_member, make_staff


def _settings(database_url: str) -> Settings:
    url = database_url
    if not is_sqlite(url):  # the test run's own schema, as the tests' engine uses it
        url = f"{url}?options={quote(f'-csearch_path={PG_SCHEMA}')}"
    return Settings(CHATCRM_DATABASE_URL=url, CHATCRM_LOCALE="th", _env_file=None)  # type: ignore[call-arg]


async def _row(app: App, kind: str) -> OutboxMessage:
    """The one outbox row of the approval's ``kind`` (``ask``: to the owner; ``done``)."""
    async with app.uow() as uow:
        found = await session_of(uow).execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"approval:%:{kind}%"))
        )
        return found.scalar_one()


async def test_two_console_users_each_see_only_their_own_messages(
    app: App, database_url: str, tmp_path: Path
) -> None:
    await ensure_branches(app, ("asoke",))
    await make_staff(app, "cashier-asoke", "cashier", "asoke", Channel.CONSOLE, "Nok")
    await make_staff(app, "owner", "owner", None, Channel.CONSOLE, "Somchai")
    ploy = await make_member(app, user_id="m1", locale="en")
    settings = _settings(database_url)
    approve = t("th", "approval.approve")
    requested = t("th", "approval.requested", amount="1,500 บาท", receipt="BIG")
    approved = t("th", "approval.approved_owner")
    member = member_label(ploy)
    answer = t("th", "approval.approved_cashier", receipt="BIG", amount="1,500 บาท", member=member)

    # the owner has used the console before: a first opening shows the staff menu, which can
    # arrive after the waiting request and put its own buttons where the approval's were
    earlier = Terminal(settings, "owner", tmp_path / "owner-before")
    await earlier.shows(lambda text: "/sale" in text)  # the staff menu
    await earlier.quit()
    cashier = Terminal(settings, "cashier-asoke", tmp_path / "cashier")
    owner: Terminal | None = None
    try:
        cashier.keyboard.type(f"/sale {ploy.member_code} 19000 receipt=R0")
        cashier.keyboard.type(f"/sale {ploy.member_code} 1500 receipt=BIG")
        await cashier.shows(lambda text: requested in text)
        asked = await _row(app, "ask")
        # the owner's terminal is not running: the request waits for it
        assert (asked.channel, asked.user_id, asked.status) == ("console", "owner", "pending")

        owner = Terminal(settings, "owner", tmp_path / "owner")
        await owner.shows(lambda text: "Nok" in text and approve in text)
        owner.keyboard.type("1")  # the first button: approve
        await owner.shows(lambda text: approved in text)
        # the answer to the cashier reaches the cashier's terminal
        await cashier.shows(lambda text: answer in text)
    finally:
        for terminal in (cashier, owner):
            if terminal is not None:
                await terminal.quit()
    assert approve not in cashier.text  # the owner's request never showed at the cashier's
    assert "Nok" not in cashier.text
    assert (await _row(app, "ask")).status == "sent"
    done = await _row(app, "done")
    assert (done.channel, done.user_id, done.status) == ("console", "cashier-asoke", "sent")
    assert answer not in owner.text  # nor the cashier's answer at the owner's
