"""Response models of the JSON API. They expose aggregates only: never gold or per-item data."""

from datetime import datetime

from pydantic import BaseModel, Field


class Progress(BaseModel):
    items_done: int
    items_total: int
    judge_errors: int
    cache_hits: int
    queue_position: int | None = Field(None, description="1-based, while queued")


class Coverage(BaseModel):
    answered: int
    total: int


class RunResult(BaseModel):
    score: float = Field(description="Track score, 0–100: mean item score over all gold items")
    f1: float | None = Field(None, description="T1 only: SQuAD token F1, 0–100")
    ci_low: float | None = None
    ci_high: float | None = None
    dimension_means: dict[str, float] = Field(description="Per rubric dimension, 0–100")
    judge_error_count: int
    truncated_count: int


class SubmissionStatus(BaseModel):
    id: int
    model: str
    track: str
    filename: str
    file_sha256: str
    state: str = Field(description="accepted or rejected")
    status: str | None = Field(None, description="queued, judging, scored, failed or cancelled")
    created_at: datetime
    coverage: Coverage
    progress: Progress | None = None
    rubric_version: str | None = None
    judge_model: str | None = None
    judge_is_reference: bool = False
    failure: str | None = Field(None, description="Why the latest run failed, when it did")
    result: RunResult | None = None
    duplicate: bool = False
    errors: list[dict[str, object]] = Field(default_factory=list)
    error_count: int = 0


class TrackEntry(BaseModel):
    score: float
    f1: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    coverage: float | None = None
    judge_errors: int = 0
    submission_id: int | None = None
    rubric_version: str | None = None
    judge_model: str | None = None
    judge_is_reference: bool = False


class LeaderboardEntry(BaseModel):
    rank: int | None
    model: str
    organisation: str | None
    open_weights: bool
    medical: bool
    category: str
    kind: str = Field(description="judged, or reported (as printed in the paper)")
    source: str | None
    mean: float | None = Field(description="Mean of the four track scores, when all four exist")
    tracks: dict[str, TrackEntry]


class Leaderboard(BaseModel):
    entries: list[LeaderboardEntry]
    generated_at: datetime
