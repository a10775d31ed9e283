"""Staff invites, sale approvals, rewards, coupons, tags, notes and one-time codes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id
from storage.types import Money, UTCDateTime


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
    # a receipt number is a branch's, as a sale's is
    __table_args__ = (
        Index("uq_sale_approvals_receipt_branch", "receipt_no", "branch_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    requested_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    receipt_no: Mapped[str] = mapped_column(String(64))
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
