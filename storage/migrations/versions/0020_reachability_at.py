"""reachability at: when the person did what a chat account's reachable flag last followed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # LINE redelivers an event it could not hand over later, with its original timestamp, after
    # events that happened after it: an unfollow older than the follow again, or a text older
    # than the unfollow, must not flip the flag. NULL for the accounts there are: not known,
    # so the next event counts as newer.
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reachability_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_column("reachability_at")
