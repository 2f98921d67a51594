"""One scoring of one submission under one rubric version and judge model, and its results."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EnumText, JSONValue, UTCDateTime, utcnow
from app.runs import FailureKind, RunStatus


class EvaluationRun(Base):
    __tablename__ = "evaluation_runs"
    __table_args__ = (Index("ix_evaluation_runs_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_versions.version"))
    judge_model_id: Mapped[int] = mapped_column(ForeignKey("judge_models.id"))
    rejudge_id: Mapped[int | None] = mapped_column(ForeignKey("rejudges.id"), index=True)
    status: Mapped[RunStatus] = mapped_column(EnumText(RunStatus, 10), default=RunStatus.QUEUED)
    # Fencing token: bumped when a run is handed to a new job, so a stale job stops writing.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    judge_errors: Mapped[int] = mapped_column(Integer, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0)
    judge_calls: Mapped[int] = mapped_column(Integer, default=0)
    # Items whose verdicts contradict the rubric's `implies` rules (T1: exact match without the
    # disease category); scored as given, counted for maintainers.
    judge_inconsistencies: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    failure_kind: Mapped[FailureKind | None] = mapped_column(EnumText(FailureKind, 10))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Judge outages (app/services/outage.py): when this spell of waiting for the judge began,
    # how many times the run has waited in it, and when a `waiting` run is tried next.
    outage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outage_waits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Recorded when judging starts (the evaluation card): temperature, seed and max_tokens sent
    # to the judge, and the service's package version. NULL for runs judged before they were.
    judge_sampling: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, nullable=True)
    software_version: Mapped[str | None] = mapped_column(String(40))


class ItemResult(Base):
    """Keyed by (run, item) and written as an upsert, so a repeated write is harmless."""

    __tablename__ = "item_results"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ratings: Mapped[dict[str, int] | None] = mapped_column(JSONValue, nullable=True)
    item_score: Mapped[float | None] = mapped_column(Float)  # None only for judge errors
    f1: Mapped[float | None] = mapped_column(Float)  # T1 only
    missing: Mapped[bool] = mapped_column(Boolean, default=False)  # no prediction: scores 0
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    context_truncated: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa.false()
    )
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    raw_reply: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunAggregate(Base):
    """What leaderboards read: one row per scored run, never rebuilt from item rows per request."""

    __tablename__ = "run_aggregates"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(Float)  # 0–100
    f1: Mapped[float | None] = mapped_column(Float)  # T1 only, 0–100
    dimension_means: Mapped[dict[str, float]] = mapped_column(JSONValue)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    item_count: Mapped[int] = mapped_column(Integer)  # gold items of the track
    answered_count: Mapped[int] = mapped_column(Integer)
    judge_error_count: Mapped[int] = mapped_column(Integer)
    truncated_count: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
