"""Leaderboard views: judged entries (latest published scored submission per model and track,
under the active rubric and judge) beside the results reported in the paper."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import leaderboard as leaderboard_repo
from app.repositories import models as models_repo
from app.tracks import Track


@dataclass(frozen=True)
class TrackCell:
    score: float
    f1: float | None = None  # T1 only
    ci_low: float | None = None
    ci_high: float | None = None
    judge_errors: int = 0
    coverage: float | None = None  # answered / gold items
    submission_id: int | None = None
    rubric_version: str | None = None
    judge_model: str | None = None
    judge_is_reference: bool = False


@dataclass
class LeaderboardRow:
    model: str
    organisation: str | None
    open_weights: bool
    medical: bool
    category: str
    kind: str  # "judged" or "reported"
    source: str | None  # paper table for reported entries
    cells: dict[Track, TrackCell] = field(default_factory=dict)
    first_submitted_at: datetime | None = None
    rank: int | None = None

    @property
    def mean(self) -> float | None:
        """Mean of the four track scores, only when all four exist."""
        if len(self.cells) < len(Track):
            return None
        return sum(cell.score for cell in self.cells.values()) / len(Track)

    def score(self, track: Track) -> float | None:
        cell = self.cells.get(track)
        return cell.score if cell else None


async def build_leaderboard(session: AsyncSession) -> list[LeaderboardRow]:
    rows: dict[tuple[str, str], LeaderboardRow] = {}
    for entry in await leaderboard_repo.scored_under_active_pair(session):
        key = (entry.model.name, "judged")
        row = rows.get(key)
        if row is None:
            row = rows[key] = LeaderboardRow(
                model=entry.model.name,
                organisation=entry.model.organisation,
                open_weights=entry.model.open_weights,
                medical=entry.model.medical,
                category=entry.model.category,
                kind="judged",
                source=None,
            )
        track = Track(entry.track)
        if track in row.cells:
            continue  # entries come newest first: the latest published submission wins
        agg = entry.aggregate
        row.cells[track] = TrackCell(
            score=agg.score,
            f1=agg.f1,
            ci_low=agg.ci_low,
            ci_high=agg.ci_high,
            judge_errors=agg.judge_error_count,
            coverage=agg.answered_count / agg.item_count if agg.item_count else None,
            submission_id=entry.submission_id,
            rubric_version=entry.rubric_version,
            judge_model=entry.judge_model,
            judge_is_reference=entry.judge_is_reference,
        )
        if row.first_submitted_at is None or entry.submitted_at < row.first_submitted_at:
            row.first_submitted_at = entry.submitted_at
    for model, reported in await models_repo.reported_results(session):
        row = LeaderboardRow(
            model=model.name,
            organisation=model.organisation,
            open_weights=model.open_weights,
            medical=model.medical,
            category=model.category,
            kind="reported",
            source=reported.source,
        )
        scores = {
            Track.T1: reported.t1_score,
            Track.T2: reported.t2_score,
            Track.T3: reported.t3_score,
            Track.T4: reported.t4_score,
        }
        for track, score in scores.items():
            if score is not None:
                f1 = reported.t1_f1 if track == Track.T1 else None
                row.cells[track] = TrackCell(score=score, f1=f1)
        rows[(model.name, "reported")] = row
    ranked = sorted(rows.values(), key=_sort_key)
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


def _sort_key(row: LeaderboardRow) -> tuple[bool, float, int, float, str]:
    # Complete rows first by mean; incomplete rows after, by how many tracks they have; ties go
    # to the earlier submission (reported entries count as earliest: they predate the service).
    mean = row.mean
    first = row.first_submitted_at.timestamp() if row.first_submitted_at else 0.0
    partial = sum(cell.score for cell in row.cells.values()) / max(len(row.cells), 1)
    return (
        mean is None,
        -(mean if mean is not None else partial),
        -len(row.cells),
        first,
        row.model,
    )
