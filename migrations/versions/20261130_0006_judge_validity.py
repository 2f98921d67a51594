"""Judge validity: empty predictions, judge inconsistencies, truncated case narratives

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(
            sa.Column("empty_predictions", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.add_column(
            sa.Column("judge_inconsistencies", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("item_results") as batch:
        batch.add_column(
            sa.Column("context_truncated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("item_results") as batch:
        batch.drop_column("context_truncated")
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.drop_column("judge_inconsistencies")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("empty_predictions")
