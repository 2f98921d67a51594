"""Prompt-injection screening results of submissions, and maintainers' decisions on them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_screenings",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=40), nullable=False),
        sa.Column("flagged_items", sa.Integer(), nullable=False),
        sa.Column(
            "flags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_screenings_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_screenings")),
    )
    with op.batch_alter_table("submission_screenings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_screenings_decision"), ["decision"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submission_screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_screenings_decision"))
    op.drop_table("submission_screenings")
