"""Periodic job runs and post-purchase feedback."""

from __future__ import annotations

from datetime import datetime
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
from storage.types import UTCDateTime


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
