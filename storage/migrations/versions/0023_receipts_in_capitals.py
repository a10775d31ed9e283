"""receipts in capitals: ``inv-001`` and ``INV-001`` are one printed receipt

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 19:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# spelled here, not imported: a migration keeps the schema it made when the models move on
_TABLES = ("sales", "sale_approvals")
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _capitals(column: str) -> str:
    """``column`` with its ASCII letters in capitals, the same on both databases: SQLite's
    upper() folds ASCII only, PostgreSQL's every letter of its locale (so translate())."""
    if op.get_bind().dialect.name == "sqlite":
        return f"upper({column})"
    return f"translate({column}, '{_LOWER}', '{_LOWER.upper()}')"


def upgrade() -> None:
    # /sale now stores a receipt in capitals (shop.ledger.receipt_as_stored), so a receipt
    # kept in lower case would be found by no lookup. Of the receipts one branch holds in
    # several cases (inv-001 and Inv-001: each was recorded as its own sale, its points
    # given), the first takes the capitals unless a row already holds them; the others keep
    # their text as stored: merging sales is not the migration's to decide. The groups come
    # from one pass over the rows in lower case; each changed row is one index probe.
    for table in _TABLES:
        # the table names and expressions are this module's own constants
        upped, outer = _capitals("receipt_no"), _capitals(f"{table}.receipt_no")
        first = (
            f"SELECT min(id) FROM {table} WHERE receipt_no <> {upped} "  # noqa: S608
            f"GROUP BY {upped}, branch_id"
        )
        taken = (
            f"SELECT 1 FROM {table} AS other WHERE other.receipt_no = {outer} "  # noqa: S608
            f"AND other.branch_id = {table}.branch_id"
        )
        op.execute(
            f"UPDATE {table} SET receipt_no = {upped} "  # noqa: S608
            f"WHERE id IN ({first}) AND NOT EXISTS ({taken})"
        )


def downgrade() -> None:
    # the case a receipt was typed in is not kept: the receipts stay in capitals
    pass
