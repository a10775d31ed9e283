"""staff, rewards, coupons, tags, notes, one-time codes, cached balance

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:16:46.367785
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "rewards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name_th", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("points_cost", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("branch_codes", sa.JSON(), nullable=False),
        sa.Column("valid_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reward_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("title_th", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("points_spent", sa.Integer(), nullable=False),
        sa.Column("branch_codes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "redeemed_branch_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "redeemed_by_staff_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_coupons_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_branch_id"],
            ["branches.id"],
            name=op.f("fk_coupons_redeemed_branch_id_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_coupons_redeemed_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_coupons_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index("ix_coupons_member_status", ["member_id", "status"], unique=False)

    op.create_table(
        "member_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_notes_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_member_notes_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_notes")),
    )
    with op.batch_alter_table("member_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_notes_member_id"), ["member_id"], unique=False)

    op.create_table(
        "member_tags",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_tags_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "tag", name=op.f("pk_member_tags")),
    )
    op.create_table(
        "one_time_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_one_time_codes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_one_time_codes")),
    )
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_one_time_codes_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "staff_invites",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "used_by_staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_staff_invites_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_staff_id"], ["staff.id"], name=op.f("fk_staff_invites_used_by_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_invites_code_hash")),
    )
    op.create_table(
        "sale_approvals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "requested_by_staff_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("receipt_no", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decided_by_staff_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_sale_approvals_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_sale_approvals_decided_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_sale_approvals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_sale_approvals_requested_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_approvals_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_approvals")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_sale_approvals_receipt_no")),
    )
    # plain ADD COLUMN (no batch): SQLite can add these without rebuilding ``members``, which
    # other tables refer to
    op.add_column(
        "members", sa.Column("points_balance", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "members",
        sa.Column("phone_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    # the cached balance starts as the ledger's sum
    op.execute(
        "UPDATE members SET points_balance = (SELECT COALESCE(SUM(delta), 0) "
        "FROM points_ledger WHERE points_ledger.member_id = members.id)"
    )

    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=100), nullable=True))
        batch_op.create_index("uq_points_ledger_idempotency_key", ["idempotency_key"], unique=True)

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="chat", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("voided_by_staff_id")

    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.drop_index("uq_points_ledger_idempotency_key")
        batch_op.drop_column("idempotency_key")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("phone_verified")
        batch_op.drop_column("points_balance")

    op.drop_table("sale_approvals")
    op.drop_table("staff_invites")
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_time_codes_member_id"))

    op.drop_table("one_time_codes")
    op.drop_table("member_tags")
    with op.batch_alter_table("member_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_notes_member_id"))

    op.drop_table("member_notes")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_coupons_member_status")

    op.drop_table("coupons")
    op.drop_table("rewards")
