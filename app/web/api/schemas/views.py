"""Leaderboards and analyses, read by visitors. Aggregates only: never per-item data."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.leaderboard.board import Access, Direction, Domain, EntryKind
from app.tracks import Track
from app.web.api.schemas.fields import PlainLine

# The query parameters live beside these answers; every view module reaches both as `schemas`.
from app.web.api.schemas.params import OverviewParams as OverviewParams
from app.web.api.schemas.params import TableParams as TableParams
from app.web.api.schemas.params import ViewParams as ViewParams


class Dimension(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class BoardPair(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    track: Track
    rubric_version: str
    judge_model: str
    judge_is_reference: bool = Field(
        description="True for the reference stand-in judge: its scores are not a real judge's"
    )
    active: bool = Field(description="False when an older rubric version was asked for")
    dimensions: list[Dimension]


class ViewFilters(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    domain: Domain | None
    access: Access | None
    kind: EntryKind | None
    q: str
    organisation: str
    size_min: float | None
    size_max: float | None


ATTEMPTS_DESCRIPTION = (
    "Judged: the team's scored submissions of this model on this track, private ones included "
    "(shown because a team that scores several and publishes the best reports a selected "
    "maximum); null for a reported row"
)


PARAMETERS_DESCRIPTION = "The model's size in parameters, where its submitter gave it"


class TrackEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    score: float = Field(description="Track score, 0–100")
    f1: float | None = Field(None, description="T1 only: SQuAD token F1, 0–100")
    ci_low: float | None = Field(None, description="95% bootstrap interval (judged entries)")
    ci_high: float | None = None
    coverage: float | None = Field(None, description="Answered share of the gold items, 0–1")
    item_count: int | None = None
    answered_count: int | None = None
    judge_errors: int = 0
    dimension_means: dict[str, float] = Field(default_factory=dict)
    submission_id: int | None = None
    submitted_at: datetime | None = None
    pinned: bool = False
    rubric_version: str | None = None
    judge_model: str | None = None
    judge_is_reference: bool = False
    judge: str | None = Field(
        None, description="Judged here: the judge model behind the score; null: reported"
    )
    attempts: int | None = Field(None, description=ATTEMPTS_DESCRIPTION)


class LeaderboardEntry(BaseModel):
    rank: int | None = Field(
        description="By rank_by (default the mean across tracks, computed here, not in the "
        "paper), among the rows matching the filters"
    )
    rank_best: int | None = Field(None, description="Best rank compatible with the intervals")
    rank_worst: int | None = Field(None, description="Worst rank compatible with the intervals")
    model: str
    organisation: str | None
    parameter_count: int | None = Field(None, description=PARAMETERS_DESCRIPTION)
    open_weights: bool
    medical: bool
    category: str
    group: str = Field(description="closed, open_general, medical or medical_unified")
    kind: EntryKind = Field(description="judged, or reported (as printed in the paper)")
    source: str | None = Field(description="Reported entries: the paper's table")
    mean: float | None = Field(
        description="Mean across tracks — computed here, not in the paper: the mean of the four "
        "track scores, when all four exist"
    )
    mean_ci_low: float | None = None
    mean_ci_high: float | None = None
    best: list[str] = Field(default_factory=list, description="Columns where this is the best")
    second: list[str] = Field(default_factory=list, description="Columns where it is second")
    judges: list[str] = Field(
        default_factory=list,
        description="Judged here: the judge model(s) behind its scores; empty for a reported row",
    )
    attempts: dict[str, int] | None = Field(
        None,
        description="Per track, the judged row's attempts (as tracks.<track>.attempts): scored "
        "submissions, private ones included; null for a reported row",
    )
    tracks: dict[str, TrackEntry]


class TablePage(BaseModel):
    matched: int = Field(description="Rows matching the filters (N)")
    total: int = Field(description="Rows on the board (M)")
    page: int
    pages: int
    page_size: int
    all: bool
    sort: str
    direction: Direction
    columns: list[str] = Field(
        description="The columns the page shows (cols=); the JSON entries keep every field"
    )
    column_options: list[str] = Field(description="Every column key cols= accepts here")
    filters: ViewFilters
    pairs: list[BoardPair]
    last_updated: datetime | None
    generated_at: datetime
    computed_here: dict[str, str] = Field(
        description="Numbers on this view the paper does not print, with their definitions"
    )


class Leaderboard(TablePage):
    rank_by: PlainLine = Field(description="What ranks the rows: T1, T2, T3, T4 or mean")
    rank_by_options: list[str] = Field(description="Every rank_by value accepted")
    entries: list[LeaderboardEntry]


class TrackBoardEntry(BaseModel):
    rank: int | None
    rank_best: int | None = None
    rank_worst: int | None = None
    model: str
    kind: EntryKind
    source: str | None
    group: str
    organisation: str | None = None
    parameter_count: int | None = Field(None, description=PARAMETERS_DESCRIPTION)
    open_weights: bool
    medical: bool
    score: float
    ci_low: float | None = None
    ci_high: float | None = None
    f1: float | None = None
    dimension_means: dict[str, float] = Field(default_factory=dict)
    item_count: int | None = None
    answered_count: int | None = None
    coverage: float | None = None
    judge_errors: int = 0
    submission_id: int | None = None
    submitted_at: datetime | None = None
    judge: str | None = Field(
        None, description="Judged here: the judge model behind the score; null: reported"
    )
    judge_is_reference: bool = Field(
        False, description="True: scored by the reference stand-in judge, not a real judge"
    )
    attempts: int | None = Field(None, description=ATTEMPTS_DESCRIPTION)
    best: list[str] = Field(default_factory=list)
    second: list[str] = Field(default_factory=list)


class TrackBoard(TablePage):
    track: str
    title: str
    pair: BoardPair | None
    entries: list[TrackBoardEntry]


class ModelInfoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    organisation: str | None
    open_weights: bool
    medical: bool
    category: str
    group: str
    parameter_count: int | None
    url: str | None
    paper_url: str | None
    description: str | None


class ModelTrackScore(TrackEntry):
    track: str
    kind: EntryKind
    source: str | None = None
    rank: int | None = Field(
        None,
        description="Judged: rank on the track's page (/tracks/{track}, no filters), among its "
        "judged and reported rows",
    )
    ranked: int | None = Field(None, description="Rows on that page: judged and reported")
    board: str | None = Field(None, description="Judged: the page the rank is taken from")
    provenance_url: str | None = Field(
        None, description="Judged: the scored run's evaluation card (JSON download)"
    )


class SubmissionHistoryEntry(BaseModel):
    submission_id: int
    track: str
    created_at: datetime
    filename: str
    pinned: bool
    answered: int
    total_items: int
    score: float | None = Field(description="Under the board's rubric and judge, when scored")
    f1: float | None
    shown: bool = Field(description="This submission's score is the one on the leaderboard")
    provenance_url: str | None = Field(
        None, description="When scored under the board's pair: that run's evaluation card"
    )


class ModelPage(BaseModel):
    model: ModelInfoOut
    scores: list[ModelTrackScore]
    reported_protocol: str | None
    history: list[SubmissionHistoryEntry]
    pairs: list[BoardPair]
    generated_at: datetime


class GapSide(BaseModel):
    model: str
    kind: str
    score: float | None
    judge: str | None = Field(
        None, description="Judged entries: the judge model behind the score; null: reported"
    )


class AnalysisSource(BaseModel):
    param: str = Field(description="The source= value: paper, judge:<judge model> or mixed")
    kind: str = Field(description="paper, judge or mixed")
    judge_model: str | None = Field(description="source=judge: the judge whose entries take part")
    description: str
    options: list[str] = Field(description="Every source= value this board accepts")


class ComputedHere(BaseModel):
    key: str
    name: str
    definition: str = Field(description="A number computed here, not reported in the paper")


class PairedGapOut(BaseModel):
    gap: float = Field(description="Over the items both runs scored")
    ci_low: float
    ci_high: float
    items: int


class GapComparison(BaseModel):
    against: str = Field(description="open general-purpose, or closed")
    medical: GapSide | None
    other: GapSide | None
    gap: float | None = Field(description="other − best medical: positive means medical trails")
    paired: PairedGapOut | None = Field(
        description="Paired bootstrap 95% interval, when both are judged on the same items"
    )


class Distribution(BaseModel):
    group: str
    scores: list[GapSide]
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None


class TrackGapOut(BaseModel):
    track: str
    title: str
    peak_general: GapSide | None
    peak_medical: GapSide | None
    vs_open: GapComparison
    vs_closed: GapComparison
    finding: str
    general: Distribution
    medical: Distribution


class AnalysisPage(BaseModel):
    """What every analysis answer carries besides its findings."""

    entries: int
    source: AnalysisSource
    computed_here: list[ComputedHere]
    filters: ViewFilters
    pairs: list[BoardPair]
    generated_at: datetime


class DomainGap(AnalysisPage):
    tracks: list[TrackGapOut]
    capacity_dilution: float | None = Field(
        description="Gap vs the best open general-purpose model on T3 minus the same on T1"
    )


class CorrelationOut(BaseModel):
    a: str
    b: str
    rho: float | None = Field(description="Spearman's ρ; null when undefined")
    n: int = Field(description="Entries with a score on both tracks")


class FirstPlacesOut(BaseModel):
    model: str
    kind: str
    count: int
    tracks: list[str]
    judges: list[str] = Field(
        default_factory=list, description="Judged entries: the judge model(s) of its scores"
    )


class Consistency(AnalysisPage):
    correlations: list[CorrelationOut]
    firsts: list[FirstPlacesOut]
    leaders: dict[str, list[str]]
    max_firsts: int = Field(description="Most tracks any one entry ranks first on")
