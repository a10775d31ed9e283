"""audit log by member: whether a member changed their phone without reading every year's log

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The audit log is append-only and kept: its only index was by time, so the referral check
    # of a member's small first sale (did they change their phone?) and an erasure read all of it.
    op.create_index("ix_audit_log_member", "audit_log", ["member_id", "action"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_member", table_name="audit_log")
