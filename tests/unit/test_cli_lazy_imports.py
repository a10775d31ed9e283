"""The operator's commands start without the chat SDKs or matplotlib (seconds of CPU each).

Each command runs in a fresh interpreter on an empty SQLite file, as a shell user runs it; the
interpreter then reports which of the heavy packages were imported along the way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent.parent / "data"
HEAVY = ("aiogram", "linebot", "matplotlib")

PROBE = """
import contextlib, io, json, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aiogram', 'linebot', 'matplotlib'})
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _run(argv: list[str], folder: Path) -> dict[str, object]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "LINE_", "CHATCRM_"))
    }
    env["CHATCRM_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'shop.db'}"
    done = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", PROBE, *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["staff", "--help"], ["import", "--help"], ["jobs", "--help"], ["status", "-h"]],
)
def test_help_loads_no_sdk_and_no_charts(argv: list[str], tmp_path: Path) -> None:
    assert _run(argv, tmp_path) == {"code": 0, "heavy": []}


@pytest.mark.e2e
@pytest.mark.parametrize(
    "argv",
    [
        ["staff", "invite", "--role", "owner"],
        ["import", "members", str(DATA / "members_bad.csv")],
        ["import", "sales", str(DATA / "sales_loyverse.csv"), "--dry-run"],
        ["export", "members", "out.csv"],
        ["jobs", "list"],
        ["jobs", "run", "scheduler.forget_old_runs"],
        ["status"],
        ["db", "upgrade"],
    ],
)
def test_operator_commands_load_no_sdk_and_no_charts(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "shop.db").touch()  # a shop to read: export and status make none
    result = _run(argv, tmp_path)
    assert result["heavy"] == []
    assert result["code"] == 0


def test_the_probe_does_see_a_heavy_import(tmp_path: Path) -> None:
    """The check would fail if a command did load them: ``simulate`` uses both fakes' SDKs."""
    result = _run(["simulate", "--help"], tmp_path)
    assert result["code"] == 0
    # --help of simulate imports its module, which loads the worlds (and so aiogram)
    assert "aiogram" in result["heavy"]  # type: ignore[operator]
