"""Only the channel adapters (``bot/channels/``) may import a platform SDK."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "shop", "handlers", "storage", "jobs")
SDKS = frozenset({"aiogram", "linebot"})
ADAPTERS = ROOT / "bot" / "channels"


def sdk_imports(path: Path) -> list[str]:
    """The SDK modules ``path`` imports, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [name for name in names if name.split(".")[0] in SDKS]
    return found


def source_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if ADAPTERS not in path.parents
    )


def test_the_scan_sees_the_source_tree() -> None:
    assert len(source_files()) > 10
    assert sdk_imports(ADAPTERS / "telegram" / "__init__.py")  # the scanner does find real imports


def test_no_module_outside_the_channel_adapters_imports_a_platform_sdk() -> None:
    offenders = {
        str(path.relative_to(ROOT)): imports
        for path in source_files()
        if (imports := sdk_imports(path))
    }
    assert offenders == {}
