"""automation enrolment time: when a member joined an automation's audience

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An automation's campaign covers a whole period (a month); win-back cooldowns and tries
    # need the moment each member was added to it.
    op.add_column(
        "campaign_members",
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("campaign_members") as batch:
        batch.drop_column("enrolled_at")
