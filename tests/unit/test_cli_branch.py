"""``chatcrm branch add|list`` as an operator runs them before staff or an import exist."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def shop_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("CHATCRM_DATABASE_URL", url)
    return url


def test_an_empty_database_lists_no_branch_and_says_how_to_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["branch", "list"]) == 0
    assert "chatcrm branch add CODE" in capsys.readouterr().out


def test_added_branches_are_listed_with_their_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["branch", "add", "asoke", "อโศก", "Asoke"]) == 0
    assert main(["branch", "add", "Siam-2", "สยาม 2"]) == 0
    assert "Added branch siam-2: สยาม 2 / สยาม 2" in capsys.readouterr().out
    assert main(["branch", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "asoke   open    อโศก / Asoke",
        "siam-2  open    สยาม 2 / สยาม 2",
    ]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["branch", "add", "อโศก", "อโศก"], "A branch code is 2 to 20 lowercase letters"),
        (["branch", "add", "asoke", "  "], "Please type a name of 1 to 100 characters"),
    ],
)
def test_a_bad_value_is_one_english_line_and_exit_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert any(line.startswith(f"chatcrm: {said}") for line in captured.err.splitlines())
    assert "Traceback" not in captured.err
    assert main(["branch", "list"]) == 0
    assert "No branches yet" in capsys.readouterr().out


def test_a_duplicate_code_is_refused_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["branch", "add", "asoke", "อโศก", "Asoke"]) == 0
    assert main(["branch", "add", "ASOKE", "อโศก ใหม่"]) == 2
    assert 'already a branch with the code "asoke"' in capsys.readouterr().err
    assert main(["branch", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["asoke  open    อโศก / Asoke"]


@pytest.mark.parametrize("argv", [["branch"], ["branch", "add", "asoke"], ["branch", "drop"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    assert main(argv) == 2


def test_the_branch_commands_load_no_chat_sdk_or_handler() -> None:
    """The branch module is imported by every ``chatcrm`` run: it must stay light."""
    probe = (
        "import sys, bot.cli_branch; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiogram', 'linebot', 'matplotlib', 'handlers')))"
    )
    out = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


async def test_a_staff_invite_to_a_closed_branch_says_it_is_closed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.bootstrap import bootstrap
    from bot.config import Settings
    from shop.branches import set_open

    assert await asyncio.to_thread(main, ["branch", "add", "asoke", "อโศก", "Asoke"]) == 0
    app = await bootstrap(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        async with app.uow() as uow:
            await set_open(uow, "asoke", False, "test", app.clock.now())
            await uow.commit()
    finally:
        await app.close()
    capsys.readouterr()
    argv = ["staff", "invite", "--role", "cashier", "--branch", "asoke"]
    assert await asyncio.to_thread(main, argv) == 2
    assert "chatcrm: branch 'asoke' is closed (reopen it first)" in capsys.readouterr().err
