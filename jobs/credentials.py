"""The bot's own credentials refused by a platform: one warning per episode naming the setting.

A 401 from LINE or Telegram (:class:`~bot.core.errors.CredentialsRejected`) says that the token
this process runs with was revoked, reissued or mistyped — nothing about the message or the
person it goes to — and every request of that channel fails alike until the operator sets the
right token and restarts ``serve``. The operator is told once per *episode* (from the first
refusal until the channel accepts a request again), in a line naming the variable to fix
(``LINE_CHANNEL_ACCESS_TOKEN``, ``TELEGRAM_BOT_TOKEN``), not in one line per message.

Meanwhile the messages wait, none is written off: a direct reply is queued (:mod:`jobs.replies`)
and an outbox row handed back due at once without using an attempt (:mod:`jobs.dispatcher`), so
``serve`` restarted with the right token sends them straight away. The process that met the
refusal rests the channel instead, each rest as long as the episode has lasted so far
(:data:`FIRST_REST` at least, :data:`LONGEST_REST` at most): a revoked token costs a request now
and then, never a loop of them.

One watch is shared by a process's outbox dispatcher and its channels' direct replies
(:mod:`jobs.replies`), so the line is written once whichever of them meets the refusal first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.core.errors import CredentialsRejected
from bot.core.messages import Channel

log = logging.getLogger(__name__)

#: the shortest and the longest rest of a channel whose credentials are refused
FIRST_REST: Final = timedelta(seconds=5)
LONGEST_REST: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Episode:
    """A channel's credentials refused since ``since``; ``setting`` holds them."""

    since: datetime
    setting: str

    def rest(self, now: datetime) -> timedelta:
        """How long the channel rests after a refusal at ``now``: as long as the episode has
        lasted (so the rests about double), within :data:`FIRST_REST` … :data:`LONGEST_REST`."""
        return min(max(now - self.since, FIRST_REST), LONGEST_REST)


class CredentialWatch:
    """The channels whose credentials the platform refuses now; see the module docstring."""

    def __init__(self) -> None:
        self._episodes: dict[Channel, Episode] = {}

    def refused(self, channel: Channel, error: CredentialsRejected, now: datetime) -> Episode:
        """Note a refusal (the first of an episode is logged); returns the episode."""
        episode = self._episodes.get(channel)
        if episode is None:
            episode = self._episodes[channel] = Episode(now, error.setting)
            log.error(
                "%s sending failed: the platform refused the bot's credentials (%s). Set %s to "
                "the current token and restart serve; the messages wait meanwhile, none is lost.",
                channel.value,
                error,
                error.setting,
            )
        return episode

    def accepted(self, channel: Channel) -> None:
        """The channel accepted a request: an episode ends (logged)."""
        if self._episodes and (episode := self._episodes.pop(channel, None)) is not None:
            log.info("%s accepts the bot's credentials again (%s)", channel.value, episode.setting)
