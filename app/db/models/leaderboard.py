"""What the leaderboard pages cache in the database: paired bootstrap intervals of gaps."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class PairedGap(Base):
    """Gap between two scored runs on the same items, with its paired bootstrap interval.

    Computed from item results once (the one place a leaderboard page needs per-item rows) and
    kept here, so every later view, in any process, reads this row instead. A scored run's items
    never change, so a row never goes stale; deleting a run deletes its rows.
    """

    __tablename__ = "paired_gaps"

    run_a_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    run_b_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    resamples: Mapped[int] = mapped_column(Integer, primary_key=True)
    seed: Mapped[int] = mapped_column(Integer, primary_key=True)
    gap: Mapped[float] = mapped_column(Float)  # 100 × (mean(a) − mean(b)) over the shared items
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    item_count: Mapped[int] = mapped_column(Integer)  # items both runs scored (judge errors out)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
