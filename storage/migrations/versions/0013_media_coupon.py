"""media of a coupon: a coupon's QR link lives as long as the coupon and dies when it is used

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A coupon's QR image link expired after 7 days while the coupon stayed valid for longer,
    # and kept working after the coupon was used. The media route now checks the coupon.
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coupon_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("coupon_id")
