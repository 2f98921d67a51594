"""Runs wait for the judge after an outage: when the spell began, its waits, the next try

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The status column is a plain string (no CHECK): "waiting" needs no change to it.
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.add_column(
            sa.Column("outage_started_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("outage_waits", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("next_try_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.drop_column("next_try_at")
        batch.drop_column("outage_waits")
        batch.drop_column("outage_started_at")
