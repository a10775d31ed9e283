"""Members, chat identities, consents, staff, sales, points and the event plumbing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from storage.models.base import NEVER_REUSED, Base, Id
from storage.types import Money, UTCDateTime


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
    #: a number this member gave that another member holds: kept as theirs to see, never
    #: used to find anyone (a stranger is not told whose number it is), flagged for staff
    phone_unlinked: Mapped[str | None] = mapped_column(String(16))
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
    #: ids never given twice on SQLite (see ``NEVER_REUSED``)
    __table_args__ = (UniqueConstraint("channel", "user_id"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    #: the platform's language hint, as of the last event
    language_code: Mapped[str | None] = mapped_column(String(16))
    #: the language picked with /language on this account; wins over the platform's hint (a
    #: member's own ``locale`` wins over both)
    chosen_locale: Mapped[str | None] = mapped_column(String(8))
    #: False after a block (Telegram 403 / my_chat_member, LINE unfollow) until they come back
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the person did what ``reachable`` last followed (a follow, an unfollow, their return
    #: after one), as the platform stamps it: a redelivered event older than this changes
    #: nothing (None: not known, before migration 0020)
    reachability_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
        # covering: a member's sales in a time range, with everything segment totals and
        # visit conditions read (voided, amount, branch), without touching the table rows
        Index(
            "ix_sales_member_cover", "member_id", "occurred_at", "voided_at", "amount", "branch_id"
        ),
        Index("ix_sales_branch_time", "branch_id", "occurred_at"),
        # the shop's recent sales (/report's last 30 days, the digest's yesterday) by time alone
        Index("ix_sales_time", "occurred_at"),
        # each branch's till numbers its own receipts: a number is one sale at one branch
        # (the receipt first: /void looks a number up at every branch)
        Index("uq_sales_receipt_branch", "receipt_no", "branch_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(64))
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


#: the conditions of the outbox's partial indexes, as SQL (the same words in queries and in
#: migration 0018)
OUTBOX_PENDING = "status = 'pending'"
OUTBOX_URGENT = "status = 'pending' AND priority > 0"
OUTBOX_FAILED = "status = 'failed'"


class OutboxMessage(Base):
    """A message that is not a direct reply (campaigns, birthdays, staff alerts), written in the
    same transaction as its cause and sent by the dispatcher exactly once per ``dedupe_key``."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The rows still to send, by when they are due (the dispatcher's claims). Partial: a row
        # leaves it when it is sent, so a campaign's sending shrinks a small index instead of
        # moving every row inside one that also holds every row ever sent; and marking a row
        # sent touches no other index that holds it. A query uses it only when its condition
        # spells the same literal (:data:`OUTBOX_PENDING`, ``storage.repositories.outbox_reads``).
        Index(
            "ix_outbox_pending",
            "not_before",
            "id",
            sqlite_where=text(OUTBOX_PENDING),
            postgresql_where=text(OUTBOX_PENDING),
        ),
        # the contact policy counts each member's recent promotions (campaign launch)
        Index("ix_outbox_member_time", "member_id", "created_at"),
        # the dispatcher's express pass: urgent rows (replies) due now
        Index(
            "ix_outbox_urgent",
            "not_before",
            "id",
            sqlite_where=text(OUTBOX_URGENT),
            postgresql_where=text(OUTBOX_URGENT),
        ),
        # rows that gave up, per channel (``chatcrm status``): few, and never the sending's
        Index(
            "ix_outbox_failed",
            "channel",
            sqlite_where=text(OUTBOX_FAILED),
            postgresql_where=text(OUTBOX_FAILED),
        ),
    )

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
    #: above 0: a direct reply someone is waiting for, sent before any other row
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class SendPace(Base):
    """The next moment (Unix seconds) a message may go to a bot or a chat, shared by every
    process (``storage.repositories.pace``)."""

    __tablename__ = "send_pace"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class InboxThread(Base):
    """A conversation between one customer and the shop's staff, open until staff close it."""

    __tablename__ = "inbox_threads"
    __table_args__ = (Index("ix_inbox_threads_status", "status", "last_message_at"), NEVER_REUSED)

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
    __table_args__ = (Index("ix_inbox_status_time", "status", "received_at"), NEVER_REUSED)

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
    __table_args__ = (
        Index("ix_audit_log_time", "created_at"),
        # what was done to a member: the referral check of a first sale, erasure
        Index("ix_audit_log_member", "member_id", "action"),
    )

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
    #: "<channel>:<chat id>" of the one person it was made for (a card, a coupon, an export),
    #: so erasing them deletes it; None for media shared by many (a campaign's image)
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    #: the coupon whose QR this is: served only while the coupon can still be used (no foreign
    #: key: a coupon deleted with its member's erasure simply makes the link dead)
    coupon_id: Mapped[int | None] = mapped_column(Integer)
