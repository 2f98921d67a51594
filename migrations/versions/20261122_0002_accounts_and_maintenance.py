"""Teams and API tokens, model metadata, pins, rejudges, human labels, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:58:41.115515
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("upload_sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_api_tokens_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_team_id"), ["team_id"], unique=False)

    op.create_table(
        "rejudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track", sa.String(length=2), nullable=False),
        sa.Column("rubric_version", sa.String(length=64), nullable=False),
        sa.Column("judge_model_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("max_error_share", sa.Float(), nullable=False),
        sa.Column("switched", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["judge_model_id"],
            ["judge_models.id"],
            name=op.f("fk_rejudges_judge_model_id_judge_models"),
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version"],
            ["rubric_versions.version"],
            name=op.f("fk_rejudges_rubric_version_rubric_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejudges")),
    )
    with op.batch_alter_table("rejudges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejudges_track"), ["track"], unique=False)

    op.create_table(
        "human_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track", sa.String(length=2), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=100), nullable=False),
        sa.Column("rater", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_human_labels_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_labels")),
        sa.UniqueConstraint(
            "submission_id",
            "item_id",
            "dimension",
            "rater",
            name=op.f("uq_human_labels_submission_id_item_id_dimension_rater"),
        ),
    )
    with op.batch_alter_table("human_labels", schema=None) as batch_op:
        batch_op.create_index("ix_human_labels_track", ["track"], unique=False)

    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejudge_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_evaluation_runs_rejudge_id"), ["rejudge_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_evaluation_runs_rejudge_id_rejudges"), "rejudges", ["rejudge_id"], ["id"]
        )

    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parameter_count", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paper_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_models_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_models_team_id_teams"), "teams", ["team_id"], ["id"]
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_submissions_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_team_id_teams"), "teams", ["team_id"], ["id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_submissions_team_id_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_submissions_team_id"))
        batch_op.drop_column("pinned")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_models_team_id_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_models_team_id"))
        batch_op.drop_column("description")
        batch_op.drop_column("paper_url")
        batch_op.drop_column("url")
        batch_op.drop_column("parameter_count")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_evaluation_runs_rejudge_id_rejudges"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_evaluation_runs_rejudge_id"))
        batch_op.drop_column("rejudge_id")

    with op.batch_alter_table("human_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_human_labels_track")

    op.drop_table("human_labels")
    with op.batch_alter_table("rejudges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejudges_track"))

    op.drop_table("rejudges")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_team_id"))

    op.drop_table("api_tokens")
    op.drop_table("teams")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
