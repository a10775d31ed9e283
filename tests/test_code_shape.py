"""The code's shape: no module over 400 lines, no function over 60 (from ``def`` to its last
line, docstring included; decorators above ``def`` do not count).

Migrations and the synthetic-shop generator are exempt: a migration is a frozen record, and the
generator's row builders read best whole.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGES: Final = (
    "bot",
    "shop",
    "wording",
    "handlers",
    "jobs",
    "storage",
    "simulator",
    "bench",
    "tests",
)
EXEMPT: Final = (ROOT / "storage" / "migrations", ROOT / "storage" / "synthetic")
MAX_MODULE_LINES: Final = 400
MAX_FUNCTION_LINES: Final = 60


def modules() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(exempt) for exempt in EXEMPT):
                yield path


def long_functions(path: Path) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function over the limit in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    yield name, child.lineno, length
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def test_no_module_over_400_lines() -> None:
    offenders = []
    for path in modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(offenders)


def test_no_function_over_60_lines() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name}: {length} lines"
        for path in modules()
        for name, line, length in long_functions(path)
    ]
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)
