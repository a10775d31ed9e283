"""Numbers are written exactly as ``babel.numbers.format_decimal`` writes them, with the locale
and the pattern parsed once per process rather than on every call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from babel import Locale
from babel.numbers import format_decimal

import bot.i18n as i18n

VALUES: list[Any] = [
    0,
    7,
    -12,
    999,
    1_000,
    1_234_567,
    -98_765_432,
    Decimal("0"),
    Decimal("1234"),
    Decimal("1234.5"),
    Decimal("1234.567"),
    Decimal("-0.5"),
    Decimal("1E+3"),
    1234.5,
    0.125,
]


@pytest.mark.parametrize("locale", ["th", "en", "fr", ""])
def test_numbers_are_babels_text(locale: str) -> None:
    code = locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE
    for value in VALUES:
        assert i18n.format_number(value, locale) == format_decimal(value, locale=code)
        assert i18n.format_points(int(value), locale) == format_decimal(int(value), locale=code)


@pytest.mark.parametrize("locale", ["th", "en", "de"])
def test_baht_is_babels_text(locale: str) -> None:
    code = locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE
    for value in VALUES:
        amount = Decimal(value)
        pattern = "#,##0" if amount == amount.to_integral_value() else "#,##0.00"
        text = format_decimal(amount, format=pattern, locale=code)
        expected = f"{text} บาท" if locale == "th" else f"฿{text}"
        assert i18n.format_baht(amount, locale) == expected


def test_plural_forms_are_babels() -> None:
    for locale in ("th", "en", "xx"):
        code = locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE
        for count in (-2, -1, 0, 1, 2, 11, 1000):
            assert i18n.plural_form(locale, count) == Locale.parse(code).plural_form(abs(count))


def test_locale_and_pattern_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[object] = []
    real_pattern, real_locale = i18n.parse_pattern, Locale.parse

    def pattern(text: Any) -> Any:
        if isinstance(text, str):  # a locale's own pattern comes parsed already
            parsed.append(text)
        return real_pattern(text)

    def locale(code: Any, *args: Any, **kwargs: Any) -> Locale:
        if isinstance(code, str):  # babel passes the parsed one around as it is
            parsed.append(code)
        return real_locale(code, *args, **kwargs)

    monkeypatch.setattr(i18n, "parse_pattern", pattern)
    monkeypatch.setattr(Locale, "parse", locale)
    i18n._locale.cache_clear()
    i18n._pattern.cache_clear()
    for value in range(1, 200, 7):
        for code in ("th", "en"):
            i18n.format_number(value * 1001, code)
            i18n.format_baht(Decimal(value), code)
            i18n.format_baht(Decimal(value) / 4, code)
            i18n.tn(code, "count.points", value)
    # each locale once, and per locale "#,##0" and "#,##0.00" once
    assert sorted(parsed) == sorted(["th", "en"] + ["#,##0", "#,##0.00"] * 2)


def test_whole_numbers_are_babels_text_written_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = [0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 9999, 10_000, 123_456, 999_999]
    numbers += [10**k + d for k in range(6, 25) for d in (-1, 0, 1)]  # babel: up to 25 digits
    numbers += [-n for n in numbers]
    expected = {(code, n): format_decimal(n, locale=code) for code in ("th", "en") for n in numbers}
    direct = {key: text for key, text in expected.items() if abs(key[1]) < 10**18}
    applied: list[object] = []
    monkeypatch.setattr(i18n.NumberPattern, "apply", lambda *args, **kwargs: applied.append(args))
    for (code, n), text in direct.items():
        assert i18n.format_number(n, code) == text
        assert i18n.format_points(n, code) == text
    assert applied == []  # babel's pattern is not applied to a whole number
    monkeypatch.undo()
    for (code, n), text in expected.items():  # longer ones: babel's way, as before
        assert i18n.format_number(n, code) == text
    with pytest.raises(ArithmeticError):  # what babel does with a number past its precision
        i18n.format_number(int("7" * 40), "th")
