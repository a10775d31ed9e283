"""receipts per branch: a receipt number is unique at its branch, not in the whole shop

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# spelled here, not imported: a migration keeps the schema it made when the models move on
_TABLES = ("sales", "sale_approvals")


def upgrade() -> None:
    # each branch's till numbers its own receipts, so Sukhumvit's R-100 is not Asoke's. The
    # receipt leads the index: /void looks a number up at every branch. SQLite drops a
    # table's UNIQUE constraint only by rebuilding the table (storage.migrate turns foreign
    # keys off around it and checks them all before the commit).
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_receipt_no", type_="unique")
            batch_op.create_index(
                f"uq_{table}_receipt_branch", ["receipt_no", "branch_id"], unique=True
            )


def downgrade() -> None:
    # fails while two branches hold one number: which of the two sales would keep it is not
    # the migration's to decide
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"uq_{table}_receipt_branch")
            batch_op.create_unique_constraint(f"uq_{table}_receipt_no", ["receipt_no"])
