"""Prompt-injection screening of an accepted submission, and a maintainer's decision on it."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EnumText, JSONValue, UTCDateTime, utcnow


class FlagDecision(StrEnum):
    CLEARED = "cleared"  # the flags were false alarms: the submission may be published
    UPHELD = "upheld"  # the predictions address the judge: the submission stays off the board


class SubmissionScreening(Base):
    """Made at upload, before the first run is queued: which items were flagged, by which
    rules of which rule-set version. Only item ids and rule ids: never text or gold."""

    __tablename__ = "submission_screenings"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    ruleset_version: Mapped[str] = mapped_column(String(40))
    flagged_items: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    decision: Mapped[FlagDecision | None] = mapped_column(EnumText(FlagDecision, 10), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
