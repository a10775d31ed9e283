"""outbox: partial indexes of the rows still to send, so sending a row leaves them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# spelled here, not imported: a migration keeps the schema it made when the models move on
_PENDING = "status = 'pending'"
_URGENT = "status = 'pending' AND priority > 0"
_FAILED = "status = 'failed'"


def _partial(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        "outbox",
        columns,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    # ix_outbox_pending (status, not_before) and ix_outbox_urgent (status, priority,
    # not_before) held every row ever queued, sent ones included, and every claim (a lease in
    # not_before) and every mark of an outcome (status) moved the row inside both. Partial
    # indexes hold the pending rows only: marking a row sent removes it from them and touches
    # no other index; a claim moves it in the pending one alone (an urgent row in both).
    op.drop_index("ix_outbox_urgent", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    _partial("ix_outbox_pending", ["not_before", "id"], _PENDING)
    _partial("ix_outbox_urgent", ["not_before", "id"], _URGENT)
    # ``chatcrm status`` counts failed rows per channel, which the old status index served
    _partial("ix_outbox_failed", ["channel"], _FAILED)


def downgrade() -> None:
    op.drop_index("ix_outbox_failed", table_name="outbox")
    op.drop_index("ix_outbox_urgent", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["status", "not_before"])
    op.create_index("ix_outbox_urgent", "outbox", ["status", "priority", "not_before"])
