"""outbox rows by member: the contact policy's frequency cap counts them per member

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 02:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Launching a campaign counts every audience member's recent promotions; without this
    # index each count scanned the whole outbox, which grows while the launch writes to it
    # (20,000 members took minutes, a million would never finish).
    op.create_index("ix_outbox_member_time", "outbox", ["member_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_member_time", table_name="outbox")
