"""The tables. Every schema change also gets an Alembic migration in ``storage/migrations``.

Conventions: times are aware UTC (:class:`UTCDateTime`); money is :class:`Money` (satang);
points are integers in the append-only ``points_ledger``; personal data lives on ``members``,
``channel_identities`` and in free text (inbox messages, staff notes, feedback comments), all
of which ``storage/repositories/erasure.py`` clears.

The tables live in one module per concept; this package re-exports them all, and importing it
registers every table on ``Base.metadata`` (Alembic and the tests rely on that).
"""

from storage.models.automation import (
    Feedback,
    JobRun,
)
from storage.models.base import NAMING, Base, Id, table_of
from storage.models.console import ConsoleLink, ConsoleSession
from storage.models.core import (
    AuditEntry,
    Branch,
    ChannelIdentity,
    Consent,
    ConversationState,
    InboxMessage,
    InboxThread,
    Media,
    Member,
    OutboxMessage,
    PointsEntry,
    ProcessedEvent,
    Sale,
    SendPace,
    ShopSetting,
    Staff,
)
from storage.models.loyalty import (
    Coupon,
    MemberNote,
    MemberTag,
    OneTimeCode,
    Reward,
    SaleApproval,
    StaffInvite,
)
from storage.models.marketing import (
    Campaign,
    CampaignMember,
    ContactEvent,
    Segment,
)

__all__ = [
    "NAMING",
    "AuditEntry",
    "Base",
    "Branch",
    "Campaign",
    "CampaignMember",
    "ChannelIdentity",
    "Consent",
    "ConsoleLink",
    "ConsoleSession",
    "ContactEvent",
    "ConversationState",
    "Coupon",
    "Feedback",
    "Id",
    "InboxMessage",
    "InboxThread",
    "JobRun",
    "Media",
    "Member",
    "MemberNote",
    "MemberTag",
    "OneTimeCode",
    "OutboxMessage",
    "PointsEntry",
    "ProcessedEvent",
    "Reward",
    "Sale",
    "SaleApproval",
    "Segment",
    "SendPace",
    "ShopSetting",
    "Staff",
    "StaffInvite",
    "table_of",
]
