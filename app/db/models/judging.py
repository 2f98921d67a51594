"""Rubric versions, judge models, the active pair per track, and the shared judge cache."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONValue, UTCDateTime, utcnow


class RubricVersion(Base):
    __tablename__ = "rubric_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the file
    track: Mapped[str] = mapped_column(String(2), index=True)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # the rubric file's text, reloadable exactly
    note: Mapped[str | None] = mapped_column(Text)  # the maintainer's change note, when loaded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JudgeModel(Base):
    __tablename__ = "judge_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_reference: Mapped[bool] = mapped_column(Boolean, default=False)  # the stand-in judge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackConfig(Base):
    """The rubric version and judge model whose scores a track's leaderboard shows."""

    __tablename__ = "track_configs"

    track: Mapped[str] = mapped_column(String(2), primary_key=True)
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_versions.version"))
    judge_model_id: Mapped[int] = mapped_column(ForeignKey("judge_models.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JudgeCacheEntry(Base):
    """A successful verdict by request hash; shared by every worker. Errors are never stored."""

    __tablename__ = "judge_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # covers the judge model too
    ratings: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    raw_reply: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
