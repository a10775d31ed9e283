"""The ``set:`` action codes of /settings: each page builds its buttons' codes here, and the one
dispatcher (:func:`handlers.staff.settings.settings_action`) reads them back here, so no page
joins a string the way the dispatcher happens to split it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

#: the namespace of every /settings button (the router keeps it to owners)
ACTIONS: Final = "set"


@dataclass(frozen=True, slots=True)
class SettingsAction:
    """A /settings button: ``set:<verb>[:<arg>…]`` (``set:rwe:12:cost`` edits reward 12's cost).

    The verb names the page or the edit; the arguments are its ids and names, none holding a
    colon.
    """

    verb: str
    args: tuple[str, ...] = ()

    def format(self) -> str:
        return ":".join((ACTIONS, self.verb, *self.args))

    @classmethod
    def parse(cls, action: str) -> Self | None:
        """The verb and arguments of a ``set:`` action code; None for any other action."""
        namespace, *parts = action.split(":")
        if namespace != ACTIONS or not parts:
            return None
        return cls(parts[0], tuple(parts[1:]))


def settings_code(verb: str, *args: str | int) -> str:
    """The action code of a /settings button: ``settings_code("rwe", 12, "cost")``."""
    return SettingsAction(verb, tuple(str(arg) for arg in args)).format()
