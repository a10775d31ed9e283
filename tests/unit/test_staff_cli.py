"""``chatcrm staff invite`` as a shell user runs it: the code on the last line, exit codes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.cli import main
from bot.config import Settings
from tests.chat import Chat
from tests.unit.staff_support import ensure_branch, staff_of
from tests.unit.test_staff_claim import CODE_SHAPE


@pytest.fixture(autouse=True)
def shop_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("CHATCRM_DATABASE_URL", url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return url


def test_invite_prints_the_code_alone_on_the_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "invite", "--role", "owner"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert CODE_SHAPE.fullmatch(last)


def test_the_first_invite_names_the_new_shop_it_created_and_the_next_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a wrong CHATCRM_DATABASE_URL shows here, before anyone claims a code into an empty shop
    assert main(["staff", "invite", "--role", "owner"]) == 0
    first = capsys.readouterr().out.strip().splitlines()
    assert first[0] == f"New, empty shop created at {tmp_path / 'shop.db'} (CHATCRM_DATABASE_URL)."
    assert CODE_SHAPE.fullmatch(first[-1])
    assert main(["staff", "invite", "--role", "manager"]) == 0
    second = capsys.readouterr().out
    assert "New, empty shop" not in second


def test_an_unknown_branch_is_a_clear_error_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staff", "invite", "--role", "cashier", "--branch", "nowhere"]) == 2
    captured = capsys.readouterr()
    assert "unknown branch 'nowhere'" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["staff", "invite", "--role", "boss"],
        ["staff", "invite"],
        ["staff", "invite", "--role", "cashier", "--days", "0"],
        ["staff", "invite", "--role", "cashier", "--days", "many"],
    ],
)
def test_bad_usage_exits_2(argv: list[str]) -> None:
    assert main(argv) == 2


async def test_the_printed_code_makes_the_sender_staff_once(
    shop_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = await bootstrap(settings)
    try:
        await ensure_branch(app, "asoke")
    finally:
        await app.close()
    # the CLI runs its own event loop, as in a shell
    code_run = await asyncio.to_thread(
        main, ["staff", "invite", "--role", "cashier", "--branch", "asoke", "--days", "3"]
    )
    assert code_run == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    app = await bootstrap(settings)
    try:
        await Chat(app, user_id="c1").say(f"/claim {code}")
        second = Chat(app, user_id="c2")
        await second.say(f"/claim {code}")
        staff = await staff_of(app, "c1")
        assert staff is not None
        assert staff.role == "cashier"
        assert await staff_of(app, "c2") is None
    finally:
        await app.close()
