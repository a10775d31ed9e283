"""Keys and codes that one layer writes and another reads, each defined once with its parser.

A campaign message's outbox key is written when a campaign or automation enrols a member
(``shop.campaigns``) and read back when the dispatcher reports the outcome (``jobs``) and when
the demo or a bench looks for pending promotions (``storage``). A promotion's button carries an
action code that the chat router sends to the promotion handler. The feedback question's star
buttons are written by a job and read by the chat's feedback handler; a command's button (or a
LINE rich-menu postback) is written by handlers and channels and read by the router. Each
format lives here so no layer splits a string the way another layer happened to join it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Self

from bot.core.ids import row_id

#: the action of a promotion's button, and the prefix of a campaign message's outbox key
PROMOTION: Final = "cmp"
#: SQL ``LIKE`` pattern matching every campaign message's outbox key
CAMPAIGN_MESSAGE_PATTERN: Final = f"{PROMOTION}:%"


@dataclass(frozen=True, slots=True)
class CampaignMessageKey:
    """The outbox ``dedupe_key`` of one campaign's message to one member: ``cmp:<id>:<member>``.

    One member gets at most one message per campaign: the key is unique in the outbox, so a
    launch or automation run that is repeated after a crash writes nothing twice.
    """

    campaign_id: int
    member_id: int

    def format(self) -> str:
        return f"{PROMOTION}:{self.campaign_id}:{self.member_id}"

    @classmethod
    def parse(cls, key: str) -> Self | None:
        """The key's campaign and member; None for any other outbox key."""
        prefix, _, rest = key.partition(":")
        campaign, _, member = rest.partition(":")
        campaign_id, member_id = row_id(campaign), row_id(member)
        if prefix != PROMOTION or campaign_id is None or member_id is None:
            return None
        return cls(campaign_id, member_id)

    @staticmethod
    def campaign_prefix(campaign_id: int) -> str:
        """The start every key of one campaign shares (``cmp:<id>:``), for prefix look-ups."""
        return f"{PROMOTION}:{campaign_id}:"


def promotion_action(campaign_id: int) -> str:
    """The action code of a promotion's button (``cmp:<id>``, far below the 64-byte limit)."""
    return f"{PROMOTION}:{campaign_id}"


def staff_message_key(cause: str, staff_id: int) -> str:
    """The outbox key of a message to one staff member about ``cause``: ``<cause>|s<staff>``.

    Written by every message to staff (alerts, notices, approvals' outcomes); read when a
    removed staff member's unsent messages are withdrawn and when an erasure finds the alerts
    that quote the erased person."""
    return f"{cause}|s{staff_id}"


def digest_key(day: date, staff_id: int) -> str:
    """The outbox key of ``day``'s digest to one staff member: ``digest:<day>:<staff>``.

    It predates :func:`staff_message_key` and keeps its shape: a changed key would queue a
    day's digest a second time after an upgrade. :func:`staff_messages_patterns` matches it."""
    return f"digest:{day.isoformat()}:{staff_id}"


def staff_messages_patterns(staff_id: int) -> tuple[str, str]:
    """SQL ``LIKE`` patterns matching every :func:`staff_message_key` and
    :func:`digest_key` to ``staff_id`` (``_`` stands for one character of the day)."""
    return f"%|s{staff_id}", f"digest:____-__-__:{staff_id}"


#: the action namespace of a button that runs a command, as if its name had been typed
COMMAND: Final = "cmd"


@dataclass(frozen=True, slots=True)
class CommandAction:
    """A button (or rich-menu postback) that runs ``/<name> <args>``: ``cmd:<name>[:<args>]``.

    The arguments are the rest of the code, colons included (a coupon code may hold none, but a
    command's arguments are its own business).
    """

    name: str
    args: str = ""

    def format(self) -> str:
        head = f"{COMMAND}:{self.name}"
        return f"{head}:{self.args}" if self.args else head

    @classmethod
    def parse(cls, action: str) -> Self | None:
        """The command a button's action code runs; None for any other action."""
        prefix, _, rest = action.partition(":")
        if prefix != COMMAND:
            return None
        name, _, args = rest.partition(":")
        return cls(name, args)


#: the action namespace of the feedback question's star buttons
FEEDBACK_RATING: Final = "fb"
_STARS: Final = frozenset("12345")


@dataclass(frozen=True, slots=True)
class FeedbackRating:
    """One star button of the feedback question: ``fb:<feedback>:<stars>`` (1 to 5 stars)."""

    feedback_id: int
    stars: int

    def format(self) -> str:
        return f"{FEEDBACK_RATING}:{self.feedback_id}:{self.stars}"

    @classmethod
    def parse(cls, action: str) -> Self | None:
        """The rating a star button's action code gives; None for any other action, and for a
        code that names no feedback or not 1 to 5 stars."""
        prefix, _, rest = action.partition(":")
        feedback, _, stars = rest.partition(":")
        feedback_id = row_id(feedback)
        if prefix != FEEDBACK_RATING or feedback_id is None or stars not in _STARS:
            return None
        return cls(feedback_id, int(stars))


#: ``Reply.meta`` of the reply confirming an erasure: the space-separated names of the files
#: made for the erased person (their card, their export); an adapter that saved such files
#: (the console's media folder) deletes them and their numbered copies
FORGET_FILES_META: Final = "forget_files"


def card_filename(member_code: str) -> str:
    """The file name of a member's card image, wherever an adapter stores or names it."""
    return f"card-{member_code}.png"
