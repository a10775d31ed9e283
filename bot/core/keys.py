"""Keys and codes that one layer writes and another reads, each defined once with its parser.

A campaign message's outbox key is written when a campaign or automation enrols a member
(``shop.campaigns``) and read back when the dispatcher reports the outcome (``jobs``) and when
the demo or a bench looks for pending promotions (``storage``). A promotion's button carries an
action code that the chat router sends to the promotion handler. Each format lives here so no
layer splits a string the way another layer happened to join it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

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
        if prefix != PROMOTION or not campaign.isdigit() or not member.isdigit():
            return None
        return cls(int(campaign), int(member))

    @staticmethod
    def campaign_prefix(campaign_id: int) -> str:
        """The start every key of one campaign shares (``cmp:<id>:``), for prefix look-ups."""
        return f"{PROMOTION}:{campaign_id}:"


def promotion_action(campaign_id: int) -> str:
    """The action code of a promotion's button (``cmp:<id>``, far below the 64-byte limit)."""
    return f"{PROMOTION}:{campaign_id}"
