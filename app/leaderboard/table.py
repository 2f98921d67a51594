"""Views of a board as tables: filter, rank, mark best and second best, sort, paginate.

Pure functions of a board (`app.leaderboard.board`) and the visitor's query; no I/O.

Rules (docs/leaderboard.md):
- ranks, rank ranges and best/second marks are computed over the rows that match the filters;
- empty values sort last whichever the direction; ties go to the earlier submission (reported
  entries predate every submission and tie with each other).
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from app.errors import InvalidInput
from app.leaderboard.board import (
    Board,
    BoardPair,
    Cell,
    Direction,
    Entry,
    EntryKind,
)
from app.leaderboard.columns import (
    DIMENSION_PREFIX,
    MODEL_COLUMNS,
    OVERVIEW_COLUMNS,
    OVERVIEW_SCORE_COLUMNS,
    Column,
    dimension_column,
    is_dimension,
    shown_columns,
    size_in_billions,
)
from app.leaderboard.filters import EntryFilter
from app.scoring.ranking import best_and_second, competition_ranks, rank_range
from app.tracks import Track

# What the overview may rank by: one track's score, or the mean across tracks (computed here).
RANK_BY_MEAN = "mean"
RANK_BY_OPTIONS: tuple[str, ...] = (*(t.value for t in Track), RANK_BY_MEAN)


def rank_track(rank_by: str) -> Track | None:
    """The track an overview ranks by (None: the mean across tracks); anything else is refused."""
    if rank_by == RANK_BY_MEAN:
        return None
    if rank_by in RANK_BY_OPTIONS:
        return Track(rank_by)
    raise InvalidInput(
        f"rank_by must be one of {', '.join(RANK_BY_OPTIONS)}, not {rank_by!r}: pick the track "
        "whose score ranks the overview, or mean for the mean across tracks"
    )


# Numbers the paper does not print, each with its definition. Every view that shows one says so.
COMPUTED_HERE = {
    "mean": "Mean across tracks — computed here, not in the paper: the mean of the four track "
    "scores (T1 Score, T2, T3, T4), only when all four exist. The overview ranks by it.",
    "rank_range": "Rank range — computed here, not in the paper: the ranks compatible with the "
    "95% intervals. Best = 1 + the rows whose interval lies entirely above this row's; worst = "
    "N − the rows whose interval lies entirely below it (N: ranked rows shown). A reported row "
    "has no interval and counts as one of unknown width: it is never separated from a judged "
    "row, so each reported row shown widens a judged row's range by one.",
}

# A row without an interval of its own in the others' rank ranges: it may lie anywhere.
UNKNOWN_WIDTH = (-math.inf, math.inf)


def model_value(entry: Entry, column: str) -> float | None:
    """A column about the model rather than its scores (size; the organisation sorts as text)."""
    if column == Column.SIZE:
        return size_in_billions(entry.info.parameter_count)
    return None


def overview_value(entry: Entry, column: str) -> float | None:
    if column in (Column.ORGANISATION, Column.SIZE):
        return model_value(entry, column)
    if column == Column.MEAN:
        return entry.mean
    if column == Column.T1_F1:
        return entry.f1()
    return entry.score(Track(column))


def track_value(entry: Entry, track: Track, column: str) -> float | None:
    cell = entry.cells.get(track)
    if cell is None:
        return None
    if column in (Column.ORGANISATION, Column.SIZE):
        return model_value(entry, column)
    if column == Column.SCORE:
        return cell.score
    if column == Column.F1:
        return cell.f1
    if column == Column.ITEMS:
        return None if cell.item_count is None else float(cell.item_count)
    if column == Column.COVERAGE:
        coverage = cell.coverage
        return None if coverage is None else 100.0 * coverage
    if is_dimension(column):
        return cell.dimension_means.get(column[len(DIMENSION_PREFIX) :])
    raise InvalidInput(f"unknown column {column!r}")


def track_columns(pair: BoardPair | None, track: Track) -> tuple[str, ...]:
    dims = tuple(dimension_column(d.id) for d in (pair.dimensions if pair else ()))
    f1 = (Column.F1,) if track == Track.T1 else ()
    return (
        Column.RANK,
        Column.MODEL,
        Column.ORGANISATION,
        Column.SIZE,
        Column.SCORE,
        *f1,
        *dims,
        Column.ITEMS,
        Column.COVERAGE,
    )


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
    has no interval: its uncertainty is unknown, so it counts as an interval of unknown width
    (−∞, +∞) in the rank ranges of the judged ones — never separated from them — and gets no
    range of its own. Each reported row shown thus widens a judged row's range by one.
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
            else (entry.cells[track].interval if entry.kind == EntryKind.JUDGED else None)
        )
        own_interval.append(interval is not None)
        intervals.append(interval if interval is not None else UNKNOWN_WIDTH)
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
        ranked,
        column=Column.RANK,
        direction=Direction.ASC,
        value=lambda r: _rank_value(r),
        track=track,
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
    direction: Direction,
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
    sign = -1.0 if direction == Direction.DESC else 1.0
    tie_track = track if column != Column.MEAN else None
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


def _sorted(
    ranked: Sequence[RankedEntry],
    sort: str,
    direction: Direction,
    *,
    rank_track: Track | None,
    column_track: Callable[[str], Track | None],
    value: Callable[[Entry, str], float | None],
) -> list[RankedEntry]:
    """Rows in the order a table's `sort` column asks for: by name, by rank (ties by the
    submission time on `rank_track`), or by the column's value (ties on `column_track(sort)`)."""
    if sort == Column.MODEL:
        return sort_by_name(ranked, direction)
    if sort == Column.ORGANISATION:
        return sort_by_organisation(ranked, direction)
    if sort == Column.RANK:
        return sort_ranked(
            ranked, column=Column.RANK, direction=direction, value=_rank_value, track=rank_track
        )
    return sort_ranked(
        ranked,
        column=sort,
        direction=direction,
        value=lambda r: value(r.entry, sort),
        track=column_track(sort),
    )


def _partial_mean(entry: Entry) -> float:
    if not entry.cells:
        return 0.0
    return sum(cell.score for cell in entry.cells.values()) / len(entry.cells)


def sort_by_name(rows: Sequence[RankedEntry], direction: Direction) -> list[RankedEntry]:
    return sorted(
        rows,
        key=lambda r: (r.entry.name.casefold(), r.entry.kind),
        reverse=direction == Direction.DESC,
    )


def sort_by_organisation(rows: Sequence[RankedEntry], direction: Direction) -> list[RankedEntry]:
    """By organisation, then name; rows without one last in either direction."""
    known = [r for r in rows if r.entry.info.organisation]
    unknown = [r for r in rows if not r.entry.info.organisation]
    known.sort(key=lambda r: (r.entry.name.casefold(), r.entry.kind))
    known.sort(
        key=lambda r: (r.entry.info.organisation or "").strip().casefold(),
        reverse=direction == Direction.DESC,
    )
    return known + sort_by_name(unknown, Direction.ASC)


@dataclass(frozen=True)
class TableQuery:
    filters: EntryFilter = field(default_factory=EntryFilter)
    sort: str = Column.RANK
    direction: str | None = None  # None: the column's natural direction
    page: int = 1
    show_all: bool = False
    rank_by: str = RANK_BY_MEAN  # the overview's ranking: a track, or the mean across tracks
    columns: tuple[str, ...] = ()  # chosen with cols= (empty: the table's default columns)

    def resolved_direction(self) -> Direction:
        if self.direction is not None:
            try:
                return Direction(self.direction)
            except ValueError:
                raise InvalidInput(
                    f"direction must be asc or desc, not {self.direction!r}"
                ) from None
        ascending = (Column.RANK, Column.MODEL, Column.ORGANISATION)
        return Direction.ASC if self.sort in ascending else Direction.DESC


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
    direction: Direction
    columns: tuple[str, ...]  # shown, in order (the CSV keeps their groups of fields)
    all_rows: list[RankedEntry]  # every matching row in order (CSV and JSON exports)
    column_options: tuple[str, ...] = ()  # every column the table offers
    rank_by: str | None = None  # overview: the track ranked by, or "mean"; a track page: None


def _page(
    rows: list[RankedEntry],
    query: TableQuery,
    page_size: int,
    total: int,
    columns: tuple[str, ...],
    direction: Direction,
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


def column_track(column: str) -> Track | None:
    """The track an overview column belongs to (ties go to that track's submission time)."""
    track = column.split("_")[0]
    return Track(track) if track in RANK_BY_OPTIONS and track != RANK_BY_MEAN else None


def overview_table(board: Board, query: TableQuery, page_size: int) -> TableView:
    """Every entry, ranked by `query.rank_by` (a track's score, or the mean across tracks)."""
    if query.sort not in OVERVIEW_COLUMNS:
        raise InvalidInput(f"sort must be one of {', '.join(OVERVIEW_COLUMNS)}, not {query.sort!r}")
    by = rank_track(query.rank_by)
    direction = query.resolved_direction()
    entries = query.filters.apply(board.entries)
    ranked = rank_entries(entries, track=by, marked=OVERVIEW_SCORE_COLUMNS, value=overview_value)
    rows = _sorted(
        ranked,
        query.sort,
        direction,
        rank_track=by,
        column_track=column_track,
        value=overview_value,
    )
    columns = shown_columns(
        OVERVIEW_COLUMNS,
        query.columns,
        query.sort,
        lambda c: any(_has(e, c, overview_value) for e in entries),
    )
    view = _page(rows, query, page_size, board.total, columns, direction)
    return replace(view, rank_by=query.rank_by, column_options=OVERVIEW_COLUMNS)


def _has(entry: Entry, column: str, value: Callable[[Entry, str], float | None]) -> bool:
    if column == Column.ORGANISATION:
        return bool(entry.info.organisation)
    return value(entry, column) is not None


def track_table(board: Board, track: Track, query: TableQuery, page_size: int) -> TableView:
    """A track's page: entries with a score on the track, ranked by it."""
    available = track_columns(board.pairs.get(track), track)
    if query.sort not in available:
        raise InvalidInput(f"sort must be one of {', '.join(available)}, not {query.sort!r}")
    direction = query.resolved_direction()
    entries = [e for e in query.filters.apply(board.entries) if track in e.cells]

    def value(entry: Entry, column: str) -> float | None:
        return track_value(entry, track, column)

    # A track page is wide already: organisation and size are there on request (cols=).
    columns = shown_columns(
        available,
        query.columns,
        query.sort,
        lambda c: any(_has(e, c, value) for e in entries),
        off_by_default=MODEL_COLUMNS,
    )
    marked = [c for c in columns if c in SCORE_LIKE or is_dimension(c)]
    ranked = rank_entries(entries, track=track, marked=marked, value=value)
    rows = _sorted(
        ranked, query.sort, direction, rank_track=track, column_track=lambda _: track, value=value
    )
    view = _page(rows, query, page_size, board.total, columns, direction)
    return replace(view, column_options=available)


# A track page's columns of 0–100 values (marked best and second best, drawn with a bar).
SCORE_LIKE: tuple[str, ...] = (Column.SCORE, Column.F1)
