"""Segments, campaigns, their audience snapshots and contact events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id
from storage.types import Money, UTCDateTime


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
