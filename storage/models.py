"""The tables. Every schema change also gets an Alembic migration in ``storage/migrations``.

Conventions: times are aware UTC (:class:`UTCDateTime`); money is :class:`Money` (satang);
points are integers in the append-only ``points_ledger``; personal data lives on ``members`` and
``channel_identities`` only, so that erasure has two places to clear.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

from storage.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        Decimal: Money,
        dict[str, Any]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Member(Base):
    """A customer of the shop. After erasure the row stays (sales totals keep their anonymous
    owner) but every personal field is cleared and ``erased_at`` is set."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # E.164
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(8))  # female / male / other
    home_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    locale: Mapped[str] = mapped_column(String(5), default="th")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: where the member came from: ``ref:<member code>``, ``branch:<code>``, ``cmp:<id>``
    referred_by_code: Mapped[str | None] = mapped_column(String(16))
    signup_source: Mapped[str | None] = mapped_column(String(64))
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the ledger's sum, kept in step by ``PointsLedger.append`` alone; a debit is a conditional
    #: update on it, so concurrent redemptions can never take a balance below zero
    points_balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the tier the member holds (kept by the tier review; None until first reviewed)
    tier: Mapped[str | None] = mapped_column(String(32))
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: True when the phone came from the platform itself (Telegram's own-contact share)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChannelIdentity(Base):
    """One chat account (a Telegram user, a LINE user, a console user), linked to at most one
    member. Exists from the first event on, before sign-up."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    language_code: Mapped[str | None] = mapped_column(String(16))
    #: False after a block (Telegram 403 / my_chat_member, LINE unfollow) until they come back
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Consent(Base):
    """Append-only record of consent given or withdrawn, per purpose, with the wording shown."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_member_purpose", "member_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[str] = mapped_column(String(16))  # membership / marketing
    granted: Mapped[bool] = mapped_column(Boolean)
    wording_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # owner / manager / cashier
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_member_time", "member_id", "occurred_at"),
        Index("ix_sales_branch_time", "branch_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    categories: Mapped[str | None] = mapped_column(String(200))  # comma separated
    used_coupon: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the staff id (no foreign key: SQLite could only add one by rebuilding ``sales``)
    voided_by_staff_id: Mapped[int | None] = mapped_column(Integer)
    #: where the sale came from: ``chat`` (a cashier's /sale) or ``import``
    source: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")


class PointsEntry(Base):
    """Append-only: a balance is the sum of a member's entries; corrections are new entries.
    ``earned_at`` drives first-in-first-out expiry."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        Index("ix_points_ledger_member", "member_id", "earned_at"),
        # an index rather than a constraint: SQLite adds it without rebuilding the table
        Index("uq_points_ledger_idempotency_key", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    delta: Mapped[int] = mapped_column(Integer)
    #: welcome / sale / void / adjust / redeem / expire / referral
    reason: Mapped[str] = mapped_column(String(32))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    note: Mapped[str | None] = mapped_column(String(200))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: makes an entry happen at most once (``sale:<id>``, ``void:<id>``, ``referral:<id>:…``)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))


class ConversationState(Base):
    """Where a person is in a multi-step conversation; saved with the effects of the same event."""

    __tablename__ = "conversation_states"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    """Event ids already handled: a redelivered webhook finds its id here and has no effect."""

    __tablename__ = "processed_events"

    event_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """A message that is not a direct reply (campaigns, birthdays, staff alerts), written in the
    same transaction as its cause and sent by the dispatcher exactly once per ``dedupe_key``."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    promotional: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/sent/failed/...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_key: Mapped[str | None] = mapped_column(String(36))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))


class InboxThread(Base):
    """A conversation between one customer and the shop's staff, open until staff close it."""

    __tablename__ = "inbox_threads"
    __table_args__ = (Index("ix_inbox_threads_status", "status", "last_message_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class InboxMessage(Base):
    """Free text a customer sent outside any conversation (``direction="in"``), and staff
    answers to it (``"out"``): the shop's inbox."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_time", "status", "received_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_threads.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3), default="in", server_default="in")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    reply_token: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what to whom; written by every staff and privacy action, never edited."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_time", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))  # "telegram:123", "cli", "system"
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShopSetting(Base):
    """Owner-editable settings (points rule, tiers, welcome points...), JSON per key."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Media(Base):
    """Files served at ``/media/<token>`` for channels that take images and files by URL (LINE)."""

    __tablename__ = "media"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(100))
    mime_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StaffInvite(Base):
    """A one-time code that makes whoever sends ``/claim CODE`` a staff member. Only the code's
    SHA-256 is stored, so a database copy does not hand out staff access."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class SaleApproval(Base):
    """A sale above the cashier's daily cap, waiting for an owner's approve or decline."""

    __tablename__ = "sale_approvals"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    requested_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    receipt_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    categories: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # approved / declined
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))


class Reward(Base):
    """An item of the reward catalog, bought with points."""

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    points_cost: Mapped[int] = mapped_column(Integer)
    #: None = unlimited; otherwise decremented by a conditional update per coupon issued
    stock: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: branch codes where it can be redeemed; empty = every branch
    branch_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: days a coupon for it stays valid
    valid_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Coupon(Base):
    """A single-use right to something (a reward bought with points, later a campaign offer).

    ``code`` carries at least 64 bits of randomness in a form a cashier can read aloud and type;
    it is redeemed by a conditional update (``status = 'issued'``), so at most once."""

    __tablename__ = "coupons"
    __table_args__ = (Index("ix_coupons_member_status", "member_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    title_th: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    points_spent: Mapped[int] = mapped_column(Integer, default=0)
    branch_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: when in the week it may be redeemed, in shop time: ``{"weekdays": [0..6] (Mon=0),
    #: "hours": [from, to)}``; None = any time until ``expires_at``
    conditions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="issued")  # redeemed/expired/void
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    redeemed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class MemberTag(Base):
    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberNote(Base):
    __tablename__ = "member_notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OneTimeCode(Base):
    """Short-lived codes that join two things: ``link`` (a chat account of another channel to a
    member, 10 minutes) and ``claim`` (an imported member to the chat account that sends it).
    Only the code's SHA-256 is stored."""

    __tablename__ = "one_time_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Segment(Base):
    """An owner-defined group of members: a rule in the segment language (``storage.segments``),
    compiled to one SQL query whenever it is used."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    rule: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A message (and optional offer) to a segment, with a hold-out group that gets nothing.

    ``rule`` is a snapshot of the segment's rule when the campaign was sent; ``offer`` is JSON
    (kind, value, titles, valid dates, weekdays, hours, branches, per-member limit)."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_status", "status", "scheduled_at"),
        # one campaign per automation and period (``automation:birthday`` + ``2026-03``)
        Index("uq_campaigns_kind_period", "kind", "period_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    #: ``campaign`` for an owner's campaign; automations (a later issue) use their own kinds
    kind: Mapped[str] = mapped_column(String(32), default="campaign", server_default="campaign")
    #: for automations: the period this run covers; None for owners' campaigns
    period_key: Mapped[str | None] = mapped_column(String(32))
    segment_name: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    button_label: Mapped[str | None] = mapped_column(String(40))
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    holdout_pct: Mapped[int] = mapped_column(Integer, default=10)
    attribution_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    #: draft / scheduled / sending / paused / sent / cancelled
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: THB per LINE message at the time of sending (the shop's plan), for cost and ROI
    line_message_price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    #: what one redeemed offer costs the shop, for ROI
    offer_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignMember(Base):
    """The audience snapshot of a campaign: one row per member, written with the outbox rows in
    the transaction that starts the campaign; responses are recorded on it."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        Index("ix_campaign_members_group", "campaign_id", "group"),
        Index("ix_campaign_members_member", "member_id", "campaign_id"),
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    #: ``recipient`` (gets the message) or ``holdout`` (gets nothing, measured the same way)
    group: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    #: why a member of the segment was not sent to: no_consent / stopped / unreachable /
    #: frequency_cap / no_channel (None for everyone who was)
    excluded: Mapped[str | None] = mapped_column(String(16))
    outbox_key: Mapped[str | None] = mapped_column(String(128))
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    #: when the member joined the audience (automations, whose campaign spans a period)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactEvent(Base):
    """Changes in whether a member can be reached: blocks, unblocks, /stop, /resume — so a
    campaign's stats can count the unfollows it caused (within 48 hours)."""

    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_member_time", "member_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # blocked / unblocked / stopped / resumed
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """One run of a periodic job for one period (``birthday`` + ``2026-03-03``): the unique key
    makes a job run once per period however many processes or restarts there are, and lets a
    restarted process see which periods it missed."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what it did, e.g. {"queued": 12}
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Feedback(Base):
    """A member's 1–5 star rating (and optional comment) of one visit, asked after the sale."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_branch_time", "branch_id", "answered_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
