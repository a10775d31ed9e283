"""Checks of a webhook's JSON before it is read without the platform SDK's models.

The plain readers of the Telegram and LINE webhooks (``bot.channels.telegram.plain``,
``bot.channels.line.plain``) take an update only when every field is known and of the exact
JSON type the platform sends (a ``bool`` is not an ``int``, an ``int`` not a ``str``), as the
SDKs' strict models do; anything else goes through the SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

Check = Callable[[object], bool]


def is_int(value: object) -> bool:
    return type(value) is int


def is_str(value: object) -> bool:
    return type(value) is str


def is_bool(value: object) -> bool:
    return type(value) is bool


def optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def one_of(values: Collection[str]) -> Check:
    return lambda value: type(value) is str and value in values


def shape(fields: Mapping[str, Check], required: frozenset[str]) -> Check:
    """A JSON object with ``required`` keys, no key outside ``fields``, each of its type."""

    def check(value: object) -> bool:
        return (
            type(value) is dict
            and required <= value.keys()
            and all(name in fields and fields[name](item) for name, item in value.items())
        )

    return check


def list_of(check: Check) -> Check:
    return lambda value: type(value) is list and all(check(item) for item in value)
