"""The Thai and English catalogs say the same things, and every error a user can see has a text."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

import bot
import handlers
from bot.core.errors import DomainError
from bot.i18n import LOCALES, catalog, format_date, placeholders, render

ROOT = Path(__file__).resolve().parents[2]


def _import_all(package: ModuleType) -> None:
    """Import every module so that DomainError subclasses defined anywhere are registered."""
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _domain_errors() -> list[type[DomainError]]:
    _import_all(bot)
    _import_all(handlers)
    found: list[type[DomainError]] = [DomainError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return found


def _literal_error_keys() -> set[str]:
    """Keys written literally as the first argument of a ``...Error(...)``/``InvalidInput(...)``."""
    error_names = {cls.__name__ for cls in _domain_errors()}
    keys: set[str] = set()
    for source in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            callee = node.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            first = node.args[0]
            if (
                name in error_names
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                keys.add(first.value)
    return keys


def test_both_catalogs_have_exactly_the_same_keys() -> None:
    thai, english = set(catalog("th")), set(catalog("en"))
    assert sorted(thai - english) == [], "keys missing from en.toml"
    assert sorted(english - thai) == [], "keys missing from th.toml"


@pytest.mark.parametrize("key", sorted(catalog("th")))
def test_each_key_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert placeholders(catalog("th")[key]) == placeholders(catalog("en").get(key, ""))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_formats_with_its_own_placeholders(locale: str) -> None:
    for key, text in catalog(locale).items():
        assert text.strip(), f"{locale}:{key} is empty"
        render(locale, text, **dict.fromkeys(placeholders(text), "x"))


def test_thai_dates_show_the_buddhist_era_year() -> None:
    assert format_date(date(1987, 5, 1), "th") == "1 พ.ค. 2530"


def test_english_dates_show_the_christian_year() -> None:
    assert format_date(date(1987, 5, 1), "en") == "1 May 1987"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_domain_error_default_key_has_a_text(locale: str) -> None:
    missing = sorted(
        f"{cls.__module__}.{cls.__name__}: {cls.key}"
        for cls in _domain_errors()
        if cls.key not in catalog(locale)
    )
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_raised_in_code_has_a_text(locale: str) -> None:
    assert sorted(_literal_error_keys() - set(catalog(locale))) == []


@pytest.mark.parametrize(
    "key", ["input.phone_invalid", "input.birthday_invalid", "input.birthday_future"]
)
@pytest.mark.parametrize("locale", LOCALES)
def test_input_refusals_show_an_example(locale: str, key: str) -> None:
    assert any(ch.isdigit() for ch in catalog(locale)[key])
