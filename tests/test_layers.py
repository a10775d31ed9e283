"""The layers of the README's design map hold, as import-linter's contracts in pyproject.toml state.

The contracts: core ← storage ← shop ← wording ← handlers | jobs ← channels ← composition root;
only the channel adapters import a platform SDK (aiogram, linebot) or aiohttp; the shop's rules
import no wording, chat, job or SQL module; nothing above storage imports SQLAlchemy; and only
storage itself and set-up code reach the unit of work's session (``storage.raw_session``).
``./dev test`` runs ``lint-imports`` too; this test keeps the contracts in the suite a developer
runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "shop", "wording", "handlers", "jobs", "storage", "simulator")


def test_the_import_graph_sees_imports_inside_functions_and_of_external_packages() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True)
    # the Telegram adapter imports aiogram at the top; the server imports it inside a function
    assert "aiogram" in graph.find_modules_directly_imported_by("bot.channels.telegram")
    assert "bot.channels.console" in graph.find_modules_directly_imported_by("bot.server")


def test_the_layer_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 (our own venv's tool, fixed arguments)
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
