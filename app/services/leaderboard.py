"""Leaderboard views: judged entries beside the results reported in the paper.

A *board* is every entry under one choice of (rubric version, judge model) per track — the
track's active pair unless the visitor asks for an older rubric version with `?rubric=`. It is
built from stored aggregates in a handful of queries and holds plain values only, so the web
layer can cache it until the data changes (`change_stamp`). Tables are views of a board: filter,
rank, mark best and second best, sort, paginate — pure functions of the board and the query.

Rules (docs/leaderboard.md):
- a judged entry shows, per track, its published scored submission: a pinned one if the team
  pinned one, else the latest;
- reported entries (the paper's Tables 2–3) and judged entries are separate rows, even for the
  same model;
- ranks, rank ranges and best/second marks are computed over the rows that match the filters;
- empty values sort last whichever the direction; ties go to the earlier submission (reported
  entries predate every submission and tie with each other).
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.repositories import judging as judging_repo
from app.repositories import leaderboard as repo
from app.repositories.leaderboard import ModelInfo, Pair
from app.rubrics.loader import parse_rubric
from app.scoring.ranking import best_and_second, competition_ranks, rank_range
from app.scoring.summary import mean_interval
from app.tracks import Track

JUDGED = "judged"
REPORTED = "reported"
KINDS = (JUDGED, REPORTED)
DOMAINS = ("general", "medical")
ACCESS = ("open", "closed")
ASC = "asc"
DESC = "desc"

# Reported entries predate every submission: they win ties against judged ones and tie with
# each other (the paper prints ties as ties).
_REPORTED_TIME = datetime(1970, 1, 1, tzinfo=UTC)

GROUP_LABELS = {
    "closed": "closed",
    "open_general": "open general",
    "medical": "medical",
    "medical_unified": "medical unified",
}


# --------------------------------------------------------------------------------------------
# Boards
# --------------------------------------------------------------------------------------------


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
    """A (rubric, judge) pair of a track that has scores, for the rubric selector."""

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
    kind: str
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
        return group_of(self.info)

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
        if self.kind != JUDGED or not self.complete:
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
        if self.kind == REPORTED:
            return _REPORTED_TIME
        if track is not None:
            cell = self.cells.get(track)
            return cell.submitted_at if cell and cell.submitted_at else _REPORTED_TIME
        times = [cell.submitted_at for cell in self.cells.values() if cell.submitted_at]
        return max(times) if times else _REPORTED_TIME

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

    def by_reference_judge(self, entry: Entry) -> bool:
        """A judged entry with a score from the reference stand-in judge (always labelled)."""
        if entry.kind != JUDGED:
            return False
        return any(
            (pair := self.pairs.get(track)) is not None and pair.judge_is_reference
            for track in entry.cells
        )


async def board_stamp(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a board built now could differ from one built before (see the repo)."""
    return await repo.change_stamp(session)


def _match_version(prefix: str, versions: Sequence[tuple[str, Track]]) -> tuple[str, Track]:
    wanted = prefix.strip().lower()
    if len(wanted) < 6:
        raise InvalidInput(
            f"rubric {prefix!r} is too short: give the version id or at least its first 6 digits"
        )
    found = [(v, t) for v, t in versions if v.startswith(wanted)]
    if not found:
        raise NotFound(f"no rubric version starts with {prefix!r}")
    if len(found) > 1:
        raise InvalidInput(f"rubric {prefix!r} matches {len(found)} versions: give more digits")
    return found[0]


async def resolve_pairs(session: AsyncSession, selection: Selection) -> dict[Track, BoardPair]:
    """The pair per track a board shows: active ones, with the visitor's rubric versions swapped
    in. An older version is readable for as long as scores under it exist."""
    active = await repo.active_pairs(session)
    judges = await repo.judges(session)
    by_name = {judge.name: judge for judge in judges.values()}
    versions = await repo.rubric_versions(session)
    pairs: dict[Track, Pair] = dict(active)
    wanted_judge = None
    if selection.judge is not None:
        wanted_judge = by_name.get(selection.judge)
        if wanted_judge is None:
            raise NotFound(f"no judge model is named {selection.judge!r}")
        if not selection.rubrics:
            raise InvalidInput("judge= picks the judge for the rubric versions given by rubric=")
    counts = await repo.scored_pair_counts(session) if selection.rubrics else []
    chosen: set[Track] = set()
    for prefix in selection.rubrics:
        version, track = _match_version(prefix, versions)
        if track in chosen:
            raise InvalidInput(f"two rubric versions were given for {track}")
        chosen.add(track)
        current = active.get(track)
        scored = [c for c in counts if c.track == track and c.rubric_version == version]
        if wanted_judge is not None:
            scored = [c for c in scored if c.judge_model_id == wanted_judge.id]
        elif current is not None:
            # Prefer the active judge's scores under the older rubric, when it has any.
            same_judge = [c for c in scored if c.judge_model_id == current.judge_model_id]
            scored = same_judge or scored
        is_current = (
            current is not None
            and current.rubric_version == version
            and (wanted_judge is None or wanted_judge.id == current.judge_model_id)
        )
        if is_current:
            continue
        if not scored:
            raise NotFound(
                f"no published scores exist for {track} under rubric version {version[:12]}"
                + (f" and judge {wanted_judge.name}" if wanted_judge else "")
            )
        latest = max(scored, key=lambda c: (c.last_computed_at or _REPORTED_TIME, c.judge_model_id))
        pairs[track] = Pair(track, version, latest.judge_model_id)
    sources = await _rubric_sources(session, [pair.rubric_version for pair in pairs.values()])
    result: dict[Track, BoardPair] = {}
    for track in Track:
        pair = pairs.get(track)
        if pair is None:
            continue
        judge = judges[pair.judge_model_id]
        result[track] = BoardPair(
            track=track,
            rubric_version=pair.rubric_version,
            judge_model_id=judge.id,
            judge_model=judge.name,
            judge_is_reference=judge.is_reference,
            active=active.get(track) == pair,
            dimensions=sources.get(pair.rubric_version, ()),
        )
    return result


async def _rubric_sources(
    session: AsyncSession, versions: Sequence[str]
) -> dict[str, tuple[Dimension, ...]]:
    dimensions: dict[str, tuple[Dimension, ...]] = {}
    for version in set(versions):
        row = await judging_repo.get_rubric_version(session, version)
        if row is None:
            continue
        rubric = parse_rubric(row.source, origin=f"rubric {version[:12]}")
        dimensions[version] = tuple(Dimension(d.id, d.name) for d in rubric.dimensions)
    return dimensions


def _judged_cell(cell: repo.ScoredCell) -> Cell:
    return Cell(
        score=cell.score,
        f1=cell.f1,
        ci_low=cell.ci_low,
        ci_high=cell.ci_high,
        item_count=cell.item_count,
        answered_count=cell.answered_count,
        judge_errors=cell.judge_error_count,
        dimension_means=cell.dimension_means,
        submission_id=cell.submission_id,
        submitted_at=cell.submitted_at,
        run_id=cell.run_id,
        gold_version_id=cell.gold_version_id,
        pinned=cell.pinned,
        computed_at=cell.computed_at,
    )


def judged_cells(scored: Sequence[repo.ScoredCell]) -> dict[int, dict[Track, Cell]]:
    """Model id → track → the cell to show: the first row per (model, track) in the repository's
    order (pinned first, then newest)."""
    cells: dict[int, dict[Track, Cell]] = {}
    for row in scored:
        per_model = cells.setdefault(row.model_id, {})
        if row.track not in per_model:
            per_model[row.track] = _judged_cell(row)
    return cells


def reported_cells(row: repo.ReportedRow) -> dict[Track, Cell]:
    scores = {Track.T1: row.t1_score, Track.T2: row.t2_score, Track.T3: row.t3_score}
    scores[Track.T4] = row.t4_score
    return {
        track: Cell(score=score, f1=row.t1_f1 if track == Track.T1 else None)
        for track, score in scores.items()
        if score is not None
    }


async def build_board(session: AsyncSession, selection: Selection | None = None) -> Board:
    """Every entry under the selected pairs, from stored aggregates (a few queries)."""
    selection = selection or Selection()
    pairs = await resolve_pairs(session, selection)
    models = await repo.models(session)
    scored = await repo.scored_cells(
        session, [Pair(t, p.rubric_version, p.judge_model_id) for t, p in pairs.items()]
    )
    entries: list[Entry] = []
    for model_id, cells in judged_cells(scored).items():
        entries.append(Entry(info=models[model_id], kind=JUDGED, cells=cells))
    reported_times: list[datetime] = []
    for row in await repo.reported(session):
        reported_times.append(row.created_at)
        entries.append(
            Entry(
                info=models[row.model_id],
                kind=REPORTED,
                cells=reported_cells(row),
                source=row.source,
                protocol=row.protocol,
            )
        )
    kinds_per_model: dict[int, int] = {}
    for entry in entries:
        kinds_per_model[entry.info.id] = kinds_per_model.get(entry.info.id, 0) + 1
    entries = [
        replace(e, label=f"{e.info.name} ({e.kind})" if kinds_per_model[e.info.id] > 1 else "")
        for e in entries
    ]
    ordered = [ranked.entry for ranked in rank_entries(entries)]
    changes = [t for t in (e.last_change for e in entries) if t is not None] + reported_times
    choices = await _choices(session, pairs)
    return Board(
        entries=tuple(ordered),
        pairs=pairs,
        choices=choices,
        last_updated=max(changes) if changes else None,
        selection=selection,
    )


async def _choices(
    session: AsyncSession, pairs: Mapping[Track, BoardPair]
) -> tuple[RubricChoice, ...]:
    active = await repo.active_pairs(session)
    judges = await repo.judges(session)
    choices = []
    for count in await repo.scored_pair_counts(session):
        judge = judges[count.judge_model_id]
        current = active.get(count.track)
        choices.append(
            RubricChoice(
                track=count.track,
                rubric_version=count.rubric_version,
                judge_model=judge.name,
                judge_is_reference=judge.is_reference,
                runs=count.runs,
                active=current is not None
                and (current.rubric_version, current.judge_model_id)
                == (count.rubric_version, count.judge_model_id),
            )
        )
    choices.sort(key=lambda c: (c.track, not c.active, c.rubric_version, c.judge_model))
    return tuple(choices)


# --------------------------------------------------------------------------------------------
# Filters, ranks, marks, sorting and pages: pure functions of a board
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFilter:
    domain: str | None = None  # general | medical
    access: str | None = None  # open | closed
    kind: str | None = None  # judged | reported
    q: str = ""  # case-insensitive substring of the model name

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("domain", self.domain, DOMAINS),
            ("access", self.access, ACCESS),
            ("kind", self.kind, KINDS),
        ):
            if value is not None and value not in allowed:
                raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")

    def matches(self, entry: Entry) -> bool:
        if self.domain is not None and entry.info.medical != (self.domain == "medical"):
            return False
        if self.access is not None and entry.info.open_weights != (self.access == "open"):
            return False
        if self.kind is not None and entry.kind != self.kind:
            return False
        return not self.q or self.q.casefold() in entry.info.name.casefold()

    def apply(self, entries: Sequence[Entry]) -> list[Entry]:
        return [entry for entry in entries if self.matches(entry)]

    @property
    def active(self) -> bool:
        return any((self.domain, self.access, self.kind, self.q))


# Column keys. Overview: rank, model, T1, T1_F1, T2, T3, T4, mean. A track page: rank, model,
# score, f1 (T1), items, coverage and one key per rubric dimension ("dim:<id>").
RANK = "rank"
MODEL = "model"
MEAN = "mean"
SCORE = "score"
F1 = "f1"
ITEMS = "items"
COVERAGE = "coverage"
OVERVIEW_SCORE_COLUMNS = ("T1", "T1_F1", "T2", "T3", "T4", MEAN)
OVERVIEW_COLUMNS = (RANK, MODEL, *OVERVIEW_SCORE_COLUMNS)
DIMENSION_PREFIX = "dim:"


def overview_value(entry: Entry, column: str) -> float | None:
    if column == MEAN:
        return entry.mean
    if column == "T1_F1":
        return entry.f1()
    return entry.score(Track(column))


def track_value(entry: Entry, track: Track, column: str) -> float | None:
    cell = entry.cells.get(track)
    if cell is None:
        return None
    if column == SCORE:
        return cell.score
    if column == F1:
        return cell.f1
    if column == ITEMS:
        return None if cell.item_count is None else float(cell.item_count)
    if column == COVERAGE:
        coverage = cell.coverage
        return None if coverage is None else 100.0 * coverage
    if column.startswith(DIMENSION_PREFIX):
        return cell.dimension_means.get(column[len(DIMENSION_PREFIX) :])
    raise InvalidInput(f"unknown column {column!r}")


def track_columns(pair: BoardPair | None, track: Track) -> tuple[str, ...]:
    dims = tuple(f"{DIMENSION_PREFIX}{d.id}" for d in (pair.dimensions if pair else ()))
    f1 = (F1,) if track == Track.T1 else ()
    return (RANK, MODEL, SCORE, *f1, *dims, ITEMS, COVERAGE)


@dataclass(frozen=True)
class RankedEntry:
    entry: Entry
    rank: int | None
    rank_range: tuple[int, int] | None  # only for entries with an interval
    marks: Mapping[str, str] = field(default_factory=dict)  # column → "best" | "second"

    # Conveniences for callers that treat a ranked entry as a row.
    @property
    def model(self) -> str:
        return self.entry.model

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def cells(self) -> Mapping[Track, Cell]:
        return self.entry.cells

    @property
    def mean(self) -> float | None:
        return self.entry.mean


def rank_entries(
    entries: Sequence[Entry],
    *,
    track: Track | None = None,
    marked: Sequence[str] = (),
    value: Callable[[Entry, str], float | None] | None = None,
) -> list[RankedEntry]:
    """Point ranks, rank ranges and best/second marks over `entries`, in rank order.

    The ranked quantity is the mean (overview) or a track's score (`track` given). Entries
    without it are unranked and come last, the more tracks the earlier. A reported entry counts
    as a fixed point in the rank ranges of the judged ones (it has no interval of its own).
    """
    get = value or (lambda e, c: overview_value(e, c))
    values = [e.mean if track is None else e.score(track) for e in entries]
    ties = [e.tie_time(track) for e in entries]
    ranks = competition_ranks(values, tie_break=ties)
    intervals: list[tuple[float, float] | None] = []
    own_interval: list[bool] = []
    for entry, score in zip(entries, values, strict=True):
        if score is None:
            intervals.append(None)
            own_interval.append(False)
            continue
        interval = (
            entry.mean_interval
            if track is None
            else (entry.cells[track].interval if entry.kind == JUDGED else None)
        )
        own_interval.append(interval is not None)
        intervals.append(interval if interval is not None else (score, score))
    ranges = rank_range(intervals)
    marks: dict[int, dict[str, str]] = {i: {} for i in range(len(entries))}
    for column_key in marked:
        shown = [_displayed(get(e, column_key)) for e in entries]
        best, second = best_and_second(shown)
        for i in best:
            marks[i][column_key] = "best"
        for i in second:
            marks[i][column_key] = "second"
    ranked = [
        RankedEntry(
            entry=entry,
            rank=ranks[i],
            rank_range=ranges[i] if own_interval[i] else None,
            marks=marks[i],
        )
        for i, entry in enumerate(entries)
    ]
    return sort_ranked(
        ranked, column=RANK, direction=ASC, value=lambda r: _rank_value(r), track=track
    )


def _displayed(value: float | None) -> float | None:
    """Values compare as shown (one decimal), as the paper marks its tables."""
    return None if value is None or math.isnan(value) else round(value, 1)


def _rank_value(row: RankedEntry) -> float | None:
    return None if row.rank is None else float(row.rank)


def sort_ranked(
    rows: Sequence[RankedEntry],
    *,
    column: str,
    direction: str,
    value: Callable[[RankedEntry], float | None],
    track: Track | None = None,
) -> list[RankedEntry]:
    """Sort by `value`; rows without one go last in either direction; ties go to the earlier
    submission, then the name (so the order is total)."""
    present: list[tuple[float, RankedEntry]] = []
    missing: list[RankedEntry] = []
    for row in rows:
        v = value(row)
        if v is None:
            missing.append(row)
        else:
            present.append((v, row))
    sign = -1.0 if direction == DESC else 1.0
    tie_track = track if column != MEAN else None
    present.sort(
        key=lambda p: (sign * p[0], p[1].entry.tie_time(tie_track), p[1].entry.name.casefold())
    )
    missing.sort(
        key=lambda r: (
            -len(r.entry.cells),
            -_partial_mean(r.entry),
            r.entry.tie_time(),
            r.entry.name.casefold(),
        )
    )
    return [row for _, row in present] + missing


def _partial_mean(entry: Entry) -> float:
    if not entry.cells:
        return 0.0
    return sum(cell.score for cell in entry.cells.values()) / len(entry.cells)


def sort_by_name(rows: Sequence[RankedEntry], direction: str) -> list[RankedEntry]:
    return sorted(
        rows,
        key=lambda r: (r.entry.name.casefold(), r.entry.kind),
        reverse=direction == DESC,
    )


@dataclass(frozen=True)
class TableQuery:
    filters: EntryFilter = EntryFilter()
    sort: str = RANK
    direction: str | None = None  # None: the column's natural direction
    page: int = 1
    show_all: bool = False

    def resolved_direction(self) -> str:
        if self.direction is not None:
            if self.direction not in (ASC, DESC):
                raise InvalidInput(f"direction must be asc or desc, not {self.direction!r}")
            return self.direction
        return ASC if self.sort in (RANK, MODEL) else DESC


@dataclass(frozen=True)
class TableView:
    """One page of a sorted, filtered, ranked table."""

    rows: list[RankedEntry]
    matched: int  # rows matching the filters (N)
    total: int  # rows on the board (M)
    page: int
    pages: int
    page_size: int
    show_all: bool
    sort: str
    direction: str
    columns: tuple[str, ...]
    all_rows: list[RankedEntry]  # every matching row in order (CSV and JSON exports)


def _page(
    rows: list[RankedEntry],
    query: TableQuery,
    page_size: int,
    total: int,
    columns: tuple[str, ...],
    direction: str,
) -> TableView:
    pages = max(1, math.ceil(len(rows) / page_size))
    page = min(max(1, query.page), pages)
    shown = rows if query.show_all else rows[(page - 1) * page_size : page * page_size]
    return TableView(
        rows=shown,
        matched=len(rows),
        total=total,
        page=1 if query.show_all else page,
        pages=pages,
        page_size=page_size,
        show_all=query.show_all,
        sort=query.sort,
        direction=direction,
        columns=columns,
        all_rows=rows,
    )


def overview_table(board: Board, query: TableQuery, page_size: int) -> TableView:
    if query.sort not in OVERVIEW_COLUMNS:
        raise InvalidInput(f"sort must be one of {', '.join(OVERVIEW_COLUMNS)}, not {query.sort!r}")
    direction = query.resolved_direction()
    entries = query.filters.apply(board.entries)
    ranked = rank_entries(entries, marked=OVERVIEW_SCORE_COLUMNS)
    if query.sort == MODEL:
        rows = sort_by_name(ranked, direction)
    elif query.sort == RANK:
        rows = sort_ranked(ranked, column=RANK, direction=direction, value=_rank_value)
    else:
        column = query.sort
        track = None if column == MEAN else Track(column.split("_")[0])
        rows = sort_ranked(
            ranked,
            column=column,
            direction=direction,
            value=lambda r: overview_value(r.entry, column),
            track=track,
        )
    return _page(rows, query, page_size, board.total, OVERVIEW_COLUMNS, direction)


def track_table(board: Board, track: Track, query: TableQuery, page_size: int) -> TableView:
    """A track's page: entries with a score on the track, ranked by it."""
    columns = track_columns(board.pairs.get(track), track)
    if query.sort not in columns:
        raise InvalidInput(f"sort must be one of {', '.join(columns)}, not {query.sort!r}")
    direction = query.resolved_direction()
    entries = [e for e in query.filters.apply(board.entries) if track in e.cells]
    marked = [c for c in columns if c not in (RANK, MODEL, ITEMS, COVERAGE)]
    ranked = rank_entries(
        entries,
        track=track,
        marked=marked,
        value=lambda e, c: track_value(e, track, c),
    )
    if query.sort == MODEL:
        rows = sort_by_name(ranked, direction)
    elif query.sort == RANK:
        rows = sort_ranked(ranked, column=RANK, direction=direction, value=_rank_value, track=track)
    else:
        column = query.sort
        rows = sort_ranked(
            ranked,
            column=column,
            direction=direction,
            value=lambda r: track_value(r.entry, track, column),
            track=track,
        )
    return _page(rows, query, page_size, board.total, columns, direction)


# --------------------------------------------------------------------------------------------
# A model's page
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelView:
    info: ModelInfo
    judged: Entry | None
    reported: Entry | None
    pairs: Mapping[Track, BoardPair]
    history: list[repo.HistoryRow]
    ranks: Mapping[Track, int | None]  # judged entry's rank on each track's board
    board_size: Mapping[Track, int]


async def model_view(session: AsyncSession, board: Board, name: str) -> ModelView:
    info = await repo.model_by_name(session, name)
    if info is None:
        raise NotFound(f"no model is named {name!r}")
    judged = board.entry(f"{JUDGED}:{name}")
    reported = board.entry(f"{REPORTED}:{name}")
    pairs = [Pair(t, p.rubric_version, p.judge_model_id) for t, p in board.pairs.items()]
    history = await repo.published_history(session, info.id, pairs)
    ranks: dict[Track, int | None] = {}
    sizes: dict[Track, int] = {}
    if judged is not None:
        for track in Track:
            on_track = [e for e in board.entries if e.kind == JUDGED and track in e.cells]
            sizes[track] = len(on_track)
            ranked = rank_entries(on_track, track=track)
            ranks[track] = next((r.rank for r in ranked if r.entry.key == judged.key), None)
    return ModelView(info, judged, reported, board.pairs, history, ranks, sizes)
