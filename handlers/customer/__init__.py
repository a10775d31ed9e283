"""Customer-facing handlers: sign-up, card, points, history, profile, privacy, help."""

from __future__ import annotations

from handlers.router import Router


def register(router: Router) -> None:
    """Add every customer command, button namespace and conversation flow to ``router``."""
