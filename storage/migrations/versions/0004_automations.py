"""automations: job runs, feedback, inbox threads, member tier, automation periods

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:28:22.370351
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "job_runs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", "period_key", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_feedback_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_feedback_member_id_members")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_feedback_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("sale_id", name=op.f("uq_feedback_sale_id")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_branch_time", ["branch_id", "answered_at"], unique=False)

    op.create_table(
        "inbox_threads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "identity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "closed_by_staff_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_inbox_threads_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_inbox_threads_closed_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["channel_identities.id"],
            name=op.f("fk_inbox_threads_identity_id_channel_identities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_inbox_threads_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_threads")),
    )
    with op.batch_alter_table("inbox_threads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_threads_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(
            "ix_inbox_threads_status", ["status", "last_message_at"], unique=False
        )

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_key", sa.String(length=32), nullable=True))
        batch_op.create_index("uq_campaigns_kind_period", ["kind", "period_key"], unique=True)

    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "thread_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("direction", sa.String(length=3), server_default="in", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_inbox_thread_id"), ["thread_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_inbox_staff_id_staff"), "staff", ["staff_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_inbox_thread_id_inbox_threads"), "inbox_threads", ["thread_id"], ["id"]
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("tier_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("tier_since")
        batch_op.drop_column("tier")

    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_inbox_thread_id_inbox_threads"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_inbox_staff_id_staff"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_inbox_thread_id"))
        batch_op.drop_column("staff_id")
        batch_op.drop_column("direction")
        batch_op.drop_column("thread_id")

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("uq_campaigns_kind_period")
        batch_op.drop_column("period_key")

    with op.batch_alter_table("inbox_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_threads_status")
        batch_op.drop_index(batch_op.f("ix_inbox_threads_identity_id"))

    op.drop_table("inbox_threads")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_branch_time")

    op.drop_table("feedback")
    op.drop_table("job_runs")
