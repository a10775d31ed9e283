"""sales by time: the report's last 30 days and the digest's yesterday without a full scan

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 05:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every sales index began with the member or the branch, so "the shop's sales since X"
    # read the whole table: on 10M sales each /report figure over the last 30 days took
    # 10-30 s on SQLite.
    op.create_index("ix_sales_time", "sales", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_sales_time", table_name="sales")
