"""Two error trees: what went wrong in the shop's rules, and what went wrong talking to a platform.

A :class:`DomainError` carries an i18n message key and its arguments; the bus turns it into a
friendly reply in the member's language and rolls back whatever the handler had written. A
:class:`ChannelError` is raised by adapters only, mapped from each SDK's exceptions at one seam.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.messages import Reply


class DomainError(Exception):
    """A rule of the shop refused the request; ``key`` names the message shown to the user."""

    key: str = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key, params)


class InvalidInput(DomainError):
    key = "error.invalid_input"


class NotAllowed(DomainError):
    key = "error.not_allowed"


class NotFound(DomainError):
    key = "error.not_found"


class Conflict(DomainError):
    key = "error.conflict"


class ChannelError(Exception):
    """Delivery through a platform failed.

    ``rest``: when some messages of the failed call went out before it failed, the replies
    still to send (an adapter with no idempotency key sets it; a retry sends these instead of
    the whole call, so what arrived is not sent twice). None: retry the whole call.
    """

    rest: Sequence[Reply] | None = None


class CommandError(Exception):
    """A command-line command cannot do what was asked (bad configuration, an unknown branch, an
    unusable file); the message says why and the command exits with 2, never a traceback."""


class RecipientUnreachable(ChannelError):
    """The person blocked the bot or cannot be messaged; retrying will not help."""


class RateLimited(ChannelError):
    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class QuotaExhausted(ChannelError):
    """LINE's monthly message quota is used up: stop until next month or a plan change."""


class TransientChannelError(ChannelError):
    """Network trouble or a 5xx: the same request may succeed later."""


class PermanentChannelError(ChannelError):
    """The platform rejected the request itself (an invalid message, an unknown chat)."""


class CredentialsRejected(ChannelError):
    """The platform refused the bot's own credentials (LINE 401, Telegram 401 Unauthorized: a
    revoked or mistyped token): nothing is wrong with the message or its recipient, and every
    request fails alike until ``setting`` (the variable that holds the token) is fixed. Not
    permanent: the message waits for the right token."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting
