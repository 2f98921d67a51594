"""Models on the leaderboard, and the results the paper reported for them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class ModelCategory(StrEnum):
    GENERAL = "general"
    MEDICAL = "medical"
    MEDICAL_UNIFIED = "medical_unified"


class Model(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    open_weights: Mapped[bool] = mapped_column(Boolean, default=False)
    medical: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(20), default=ModelCategory.GENERAL.value)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id"), index=True
    )  # None: reported
    parameter_count: Mapped[int | None] = mapped_column(BigInteger)
    url: Mapped[str | None] = mapped_column(Text)
    paper_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportedResult(Base):
    """Scores as printed in the paper: never judged here, labelled with their source table."""

    __tablename__ = "reported_results"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(Text)  # e.g. "Table 2"
    protocol: Mapped[str] = mapped_column(Text)  # judge and rubric the paper used
    t1_score: Mapped[float | None] = mapped_column(Float)
    t1_f1: Mapped[float | None] = mapped_column(Float)
    t2_score: Mapped[float | None] = mapped_column(Float)
    t3_score: Mapped[float | None] = mapped_column(Float)
    t4_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
