"""reply delivery: urgent outbox rows and a send pace shared by every process; a member's
number that another member holds is kept unlinked

Revision ID: 0010
Revises: 0015
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A direct reply that could not go out at once (rate limit, 429, a 5xx) was lost; it is
    # now queued as an urgent row that the dispatcher sends before any broadcast row.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "ix_outbox_urgent", ["status", "priority", "not_before"], unique=False
        )
    # One row per bot and per chat: the next moment a message may go, claimed by every
    # process, so several ``serve`` processes share one Telegram budget.
    op.create_table(
        "send_pace",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_pace")),
    )

    # A number typed at sign-up (or in /profile) that another member holds: refusing it told a
    # stranger whose number it was. It is kept as this member's, unlinked: never used to find
    # anyone, shown to staff as a duplicate to sort out.
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_unlinked", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("phone_unlinked")
    op.drop_table("send_pace")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_urgent")
        batch_op.drop_column("priority")
