"""One accepted submission per model, track and file

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCEPTED = sa.text("state = 'accepted'")


def upgrade() -> None:
    op.create_index(
        "uq_submissions_accepted_file",
        "submissions",
        ["model_id", "track", "file_sha256"],
        unique=True,
        postgresql_where=ACCEPTED,
        sqlite_where=ACCEPTED,
    )


def downgrade() -> None:
    op.drop_index("uq_submissions_accepted_file", table_name="submissions")
