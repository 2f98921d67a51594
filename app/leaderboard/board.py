"""A leaderboard's plain data: entries, their cells and the board that holds them.

Everything here is a frozen dataclass or a StrEnum built from stored aggregates by
`app.services.leaderboard`; nothing here reads the database, so a board can be cached across
requests and every view of it (`app.leaderboard.table`) is a pure function.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.scoring.summary import mean_interval
from app.tracks import Track


class EntryKind(StrEnum):
    """Judged here from a published submission, or reported in the paper."""

    JUDGED = "judged"
    REPORTED = "reported"


class Domain(StrEnum):
    GENERAL = "general"
    MEDICAL = "medical"


class Access(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


# Reported entries predate every submission: they win ties against judged ones and tie with
# each other (the paper prints ties as ties).
REPORTED_TIME = datetime(1970, 1, 1, tzinfo=UTC)

GROUP_LABELS = {
    "closed": "closed",
    "open_general": "open general",
    "medical": "medical",
    "medical_unified": "medical unified",
}


def judged_mark(judge: str | None) -> str:
    """The one wording of a value judged here (tables, badges, chart tooltips): "judged here by
    <judge model>"; empty for a value reported in the paper."""
    return "" if judge is None else f"judged here by {judge}"


@dataclass(frozen=True)
class ModelInfo:
    id: int
    name: str
    organisation: str | None
    open_weights: bool
    medical: bool
    category: str
    parameter_count: int | None
    url: str | None
    paper_url: str | None
    description: str | None
    team_id: int | None

    @property
    def group(self) -> str:
        return group_of(self)


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str


@dataclass(frozen=True)
class BoardPair:
    """The rubric version and judge whose scores a board shows for one track."""

    track: Track
    rubric_version: str
    judge_model_id: int
    judge_model: str
    judge_is_reference: bool
    active: bool  # the track's active pair (False: an older version asked for by ?rubric=)
    dimensions: tuple[Dimension, ...]

    @property
    def short_rubric(self) -> str:
        return self.rubric_version[:12]


@dataclass(frozen=True)
class RubricChoice:
    """A (rubric, judge) pair of a track that has scores: one of the "Older boards" links."""

    track: Track
    rubric_version: str
    judge_model: str
    judge_is_reference: bool
    runs: int
    active: bool

    @property
    def short_rubric(self) -> str:
        return self.rubric_version[:12]


@dataclass(frozen=True)
class Cell:
    """One track's score of an entry. Reported cells carry a score (and T1 F1) only."""

    score: float
    f1: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    item_count: int | None = None
    answered_count: int | None = None
    judge_errors: int = 0
    dimension_means: Mapping[str, float] = field(default_factory=dict)
    submission_id: int | None = None
    submitted_at: datetime | None = None
    run_id: int | None = None
    gold_version_id: int | None = None
    pinned: bool = False
    computed_at: datetime | None = None
    # Judged: the model's scored submissions on this track, private ones included (best-of-N
    # selection made visible); None for a reported cell.
    attempts: int | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low, self.ci_high

    @property
    def plus(self) -> float | None:
        return None if self.ci_high is None else self.ci_high - self.score

    @property
    def minus(self) -> float | None:
        return None if self.ci_low is None else self.score - self.ci_low

    @property
    def coverage(self) -> float | None:
        if not self.item_count or self.answered_count is None:
            return None
        return self.answered_count / self.item_count


def group_of(info: ModelInfo) -> str:
    """closed, open_general, medical or medical_unified (the paper's table groups)."""
    if info.category == "medical_unified":
        return "medical_unified"
    if info.medical or info.category == "medical":
        return "medical"
    return "open_general" if info.open_weights else "closed"


def badges_of(info: ModelInfo) -> list[str]:
    """Group badges: closed, open general, medical, medical unified (closed medical: both)."""
    group = group_of(info)
    badges = [GROUP_LABELS[group]]
    if group in ("medical", "medical_unified") and not info.open_weights:
        badges.insert(0, "closed")
    return badges


@dataclass(frozen=True)
class Entry:
    """One leaderboard row: a model's judged scores, or the scores the paper reported for it."""

    info: ModelInfo
    kind: EntryKind
    cells: Mapping[Track, Cell]
    source: str | None = None  # reported: the paper's table
    protocol: str | None = None  # reported: the judge and rubric the paper used
    label: str = ""  # the name, plus the kind when a model has both kinds of row

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.info.name}"

    @property
    def model(self) -> str:
        return self.info.name

    @property
    def name(self) -> str:
        return self.label or self.info.name

    @property
    def group(self) -> str:
        return self.info.group

    @property
    def badges(self) -> list[str]:
        return badges_of(self.info)

    def score(self, track: Track) -> float | None:
        cell = self.cells.get(track)
        return None if cell is None else cell.score

    def f1(self) -> float | None:
        cell = self.cells.get(Track.T1)
        return None if cell is None else cell.f1

    @property
    def complete(self) -> bool:
        return all(track in self.cells for track in Track)

    @property
    def mean(self) -> float | None:
        """Mean of the four track scores, only when all four exist."""
        if not self.complete:
            return None
        return sum(self.cells[track].score for track in Track) / len(Track)

    @property
    def mean_interval(self) -> tuple[float, float] | None:
        """Conservative interval of the mean: judged entries whose four tracks have intervals."""
        if self.kind != EntryKind.JUDGED or not self.complete:
            return None
        intervals = [self.cells[track].interval for track in Track]
        if any(interval is None for interval in intervals):
            return None
        return mean_interval([i for i in intervals if i is not None])

    def tie_time(self, track: Track | None = None) -> datetime:
        """When the value being compared came to be: the earlier wins a tie.

        For one track, that track's submission; for the mean, the latest of the four (the entry
        was complete from then on). Reported entries all share one time before any submission.
        """
        if self.kind == EntryKind.REPORTED:
            return REPORTED_TIME
        if track is not None:
            cell = self.cells.get(track)
            return cell.submitted_at if cell and cell.submitted_at else REPORTED_TIME
        times = [cell.submitted_at for cell in self.cells.values() if cell.submitted_at]
        return max(times) if times else REPORTED_TIME

    @property
    def last_change(self) -> datetime | None:
        times = [cell.computed_at for cell in self.cells.values() if cell.computed_at]
        return max(times) if times else None


@dataclass(frozen=True)
class Selection:
    """What the visitor asked for: older rubric versions (by full id or a unique prefix) and the
    judge to read them under."""

    rubrics: tuple[str, ...] = ()
    judge: str | None = None

    @property
    def cache_key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.rubrics)), self.judge)


@dataclass(frozen=True)
class Board:
    entries: tuple[Entry, ...]  # default order: by mean, complete rows first
    pairs: Mapping[Track, BoardPair]
    choices: tuple[RubricChoice, ...]
    last_updated: datetime | None
    selection: Selection = Selection()

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def judges(self) -> list[tuple[str, bool]]:
        return sorted({(p.judge_model, p.judge_is_reference) for p in self.pairs.values()})

    @property
    def is_current(self) -> bool:
        return all(pair.active for pair in self.pairs.values())

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def judge_of(self, entry: Entry, track: Track) -> BoardPair | None:
        """The pair whose judge scored `entry` on `track`; None for a reported value."""
        if entry.kind != EntryKind.JUDGED or track not in entry.cells:
            return None
        return self.pairs.get(track)

    def judges_of(self, entry: Entry) -> list[tuple[str, bool]]:
        """The distinct (judge model, is reference) behind a judged entry's scores."""
        found = {
            (p.judge_model, p.judge_is_reference)
            for t in entry.cells
            if (p := self.judge_of(entry, t))
        }
        return sorted(found)

    def by_reference_judge(self, entry: Entry) -> bool:
        """A judged entry with a score from the reference stand-in judge (always labelled)."""
        if entry.kind != EntryKind.JUDGED:
            return False
        return any(
            (pair := self.pairs.get(track)) is not None and pair.judge_is_reference
            for track in entry.cells
        )
