"""Rejudges: the pair they started from, named-submission scope, stored diff summary

Revision ID: 0004
Revises: 0003_leaderboard
Create Date: 2026-11-22 02:06:39.120975
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003_leaderboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("rejudges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_rubric_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("from_judge_model_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submission_ids", _json(), nullable=True))
        batch_op.add_column(sa.Column("diff", _json(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rejudges_from_judge_model_id_judge_models"),
            "judge_models",
            ["from_judge_model_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rejudges_from_rubric_version_rubric_versions"),
            "rubric_versions",
            ["from_rubric_version"],
            ["version"],
        )


def downgrade() -> None:
    with op.batch_alter_table("rejudges", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_rejudges_from_rubric_version_rubric_versions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_rejudges_from_judge_model_id_judge_models"), type_="foreignkey"
        )
        batch_op.drop_column("diff")
        batch_op.drop_column("submission_ids")
        batch_op.drop_column("from_judge_model_id")
        batch_op.drop_column("from_rubric_version")
