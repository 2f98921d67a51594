"""Maintainers' records: rejudges, human reliability labels and the audit log."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EnumText, JSONValue, UTCDateTime, utcnow


class RejudgeStatus(StrEnum):
    RUNNING = "running"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


class Rejudge(Base):
    """Rescoring a track's submissions under a target rubric version and judge model. Its
    evaluation runs point back here; the track switches only when all of them are done."""

    __tablename__ = "rejudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track: Mapped[str] = mapped_column(String(2), index=True)
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_versions.version"))
    judge_model_id: Mapped[int] = mapped_column(ForeignKey("judge_models.id"))
    status: Mapped[RejudgeStatus] = mapped_column(EnumText(RejudgeStatus, 12))
    created_by: Mapped[str] = mapped_column(String(200))
    max_error_share: Mapped[float] = mapped_column(Float)
    switched: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The pair the board showed when the rejudge started: what its diff compares against.
    from_rubric_version: Mapped[str | None] = mapped_column(ForeignKey("rubric_versions.version"))
    from_judge_model_id: Mapped[int | None] = mapped_column(ForeignKey("judge_models.id"))
    # Named submissions only (None: every scored submission of the track, new ones included).
    submission_ids: Mapped[list[int] | None] = mapped_column(JSONValue, nullable=True)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, nullable=True)  # summary

    @property
    def target_pair(self) -> tuple[str, int]:
        """The (rubric version, judge model id) it rescores under."""
        return self.rubric_version, self.judge_model_id

    @property
    def from_pair(self) -> tuple[str, int] | None:
        """The (rubric version, judge model id) the board showed when it started, if recorded."""
        if self.from_rubric_version is None or self.from_judge_model_id is None:
            return None
        return self.from_rubric_version, self.from_judge_model_id


class HumanLabel(Base):
    """One human rating of one rubric dimension for one answered item."""

    __tablename__ = "human_labels"
    __table_args__ = (
        UniqueConstraint("submission_id", "item_id", "dimension", "rater"),
        Index("ix_human_labels_track", "track"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track: Mapped[str] = mapped_column(String(2))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(100))
    rater: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))  # team name and token prefix, or "cli:<user>"
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
