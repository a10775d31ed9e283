"""media owner: an erased member's card, coupon and export files are deleted with them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Media made for one person (a /mydata export, a member card, a coupon QR) stayed
    # downloadable after their erasure: nothing tied the file to them.
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_media_owner"), ["owner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_owner"))
        batch_op.drop_column("owner")
