"""What a model developer uploaded. A rejudge never creates a submission, only a run."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EnumText, JSONValue, UTCDateTime, utcnow


class SubmissionState(StrEnum):
    ACCEPTED = "accepted"  # valid file; its runs carry the scoring status
    REJECTED = "rejected"  # invalid file: kept for audit with its errors, never queued


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_model_track", "model_id", "track"),
        # The database's own guard against one file being accepted twice for a model and track
        # (the service checks first; this holds even when two uploads race past that check).
        Index(
            "uq_submissions_accepted_file",
            "model_id",
            "track",
            "file_sha256",
            unique=True,
            postgresql_where=text("state = 'accepted'"),
            sqlite_where=text("state = 'accepted'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    track: Mapped[str] = mapped_column(String(2))
    gold_version_id: Mapped[int] = mapped_column(ForeignKey("gold_versions.id"))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    state: Mapped[SubmissionState] = mapped_column(
        EnumText(SubmissionState, 10), default=SubmissionState.ACCEPTED
    )
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)  # non-empty predictions
    # Empty or whitespace-only predictions: counted as missing, never sent to the judge.
    empty_predictions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    published: Mapped[bool] = mapped_column(Boolean, default=False)  # private until published
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)  # shown instead of the latest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
