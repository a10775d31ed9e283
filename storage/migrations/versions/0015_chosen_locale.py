"""chosen locale: a chat account keeps the language picked with /language, member or not

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only a member's language was kept (members.locale); staff who are not members and people
    # half-way through sign-up fell back to the platform's hint at their next message.
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chosen_locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_column("chosen_locale")
