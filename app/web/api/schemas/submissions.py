"""A submission's status, the answer to an upload, the upload quota. Aggregates only."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Progress(BaseModel):
    items_done: int
    items_total: int
    judge_errors: int
    queue_position: int | None = Field(None, description="1-based, while queued")
    eta_seconds: float | None = Field(
        None, description="While judging: estimated seconds left, at the current attempt's pace"
    )
    next_try_at: datetime | None = Field(
        None,
        description="While waiting for the judge (status waiting, after an outage): when the "
        "run is tried again; stored items are kept",
    )
    waiting: str | None = Field(
        None,
        description="While waiting: 'waiting for the judge, next try at … UTC (why)'",
    )


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
    judge_inconsistencies: int = Field(
        0, description="Items whose verdicts contradict each other (T1: exact match, no category)"
    )


class FlaggedItem(BaseModel):
    id: str = Field(description="The item id")
    rules: list[str] = Field(description="Ids of the screening rules that matched")


class ScreeningStatus(BaseModel):
    ruleset_version: str
    decision: Literal["pending", "cleared", "upheld"] | None = Field(
        None,
        description="None when nothing was flagged; pending until a maintainer clears or "
        "upholds the flags (publishing is refused while pending or upheld)",
    )
    items: list[FlaggedItem]


class SubmissionStatus(BaseModel):
    id: int
    model: str
    team: str | None = None
    track: str
    published: bool = Field(False, description="Shown on the leaderboard (once scored)")
    pinned: bool = Field(
        False, description="Shown on its model's row instead of the latest submission"
    )
    status_url: str | None = Field(
        None, description="The HTML status page; for the submitting team, with its view key"
    )
    filename: str
    file_sha256: str
    state: str = Field(description="accepted or rejected")
    status: str | None = Field(
        None,
        description="queued, judging, waiting (for the judge after an outage: retried by "
        "itself), scored, failed or cancelled",
    )
    created_at: datetime
    coverage: Coverage
    empty_predictions: int = Field(
        0, description="Empty or whitespace-only predictions: not judged, scored 0 like missing"
    )
    progress: Progress | None = None
    rubric_version: str | None = None
    judge_model: str | None = None
    judge_is_reference: bool = False
    failure: str | None = Field(
        None, description="Why the latest run failed or was cancelled, when it was"
    )
    provenance_url: str | None = Field(
        None, description="Once scored: the run's evaluation card (JSON download)"
    )
    result: RunResult | None = None
    duplicate: bool = False
    errors: list[dict[str, object]] = Field(default_factory=list)
    error_count: int = 0
    flagged_items: int | None = Field(
        None,
        description="Items flagged by prompt-injection screening (still judged); shown to the "
        "submitting team and maintainers only",
    )
    screening: ScreeningStatus | None = Field(
        None, description="Which items were flagged and the maintainers' decision (team only)"
    )


class MultiTrackUpload(BaseModel):
    """The answer to a multi-track upload: one submission per track the file holds."""

    submissions: list[SubmissionStatus]


class TrackQuotaStatus(BaseModel):
    used: int = Field(description="Submissions counted in the last 24 hours")
    limit: int
    remaining: int
    next_slot_at: datetime | None = Field(
        None, description="When the oldest counted submission leaves the 24-hour window"
    )


class QuotaStatus(BaseModel):
    team: str
    exempt: bool = Field(description="Maintainer (admin) tokens are not limited")
    limit: int = Field(description="Accepted submissions per track in any rolling 24 hours")
    window_hours: int = 24
    tracks: dict[str, TrackQuotaStatus]
