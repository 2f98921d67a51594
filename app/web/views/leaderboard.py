"""The overview and the per-track boards: their JSON payloads and CSV tables."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from app.db.base import utcnow
from app.leaderboard.board import Board, EntryKind
from app.leaderboard.columns import Column, dimension_column, size_in_billions
from app.leaderboard.table import (
    COMPUTED_HERE,
    RANK_BY_MEAN,
    RANK_BY_OPTIONS,
    EntryFilter,
    RankedEntry,
    TableQuery,
    TableView,
    overview_table,
    track_table,
)
from app.rubrics.labels import dimension_label
from app.tracks import Track
from app.web.api.schemas import views as schemas
from app.web.csv_export import CsvField, csv_table
from app.web.http_cache import Body
from app.web.views.common import (
    CSV,
    BoardView,
    BoardViews,
    filters_of,
    filters_payload,
    json_body,
    pair_payload,
    query_of,
    track_entry,
)


def shown(value: float | None) -> float | None:
    """A score as the page shows it (one decimal); the JSON keeps full precision."""
    return None if value is None else round(value, 1)


def shown_share(value: float | None) -> float | None:
    """A share (coverage, 0–1) to the page's precision: a tenth of a percent."""
    return None if value is None else round(value, 3)


def shown_size(parameter_count: int | None) -> float | None:
    """A size in billions of parameters, to three decimals (a CSV cell)."""
    billions = size_in_billions(parameter_count)
    return None if billions is None else round(billions, 3)


def _marks(row: RankedEntry, mark: str) -> list[str]:
    return [column for column, value in row.marks.items() if value == mark]


def _ranked_fields(row: RankedEntry) -> dict[str, Any]:
    """What a ranked row shows in every table: its rank (and range), who it is, its marks."""
    entry = row.entry
    return {
        "rank": row.rank,
        "rank_best": row.rank_range[0] if row.rank_range else None,
        "rank_worst": row.rank_range[1] if row.rank_range else None,
        "model": entry.model,
        "kind": entry.kind,
        "source": entry.source,
        "group": entry.group,
        "organisation": entry.info.organisation,
        "parameter_count": entry.info.parameter_count,
        "open_weights": entry.info.open_weights,
        "medical": entry.info.medical,
        "best": _marks(row, "best"),
        "second": _marks(row, "second"),
    }


def overview_entry(board: Board, row: RankedEntry) -> schemas.LeaderboardEntry:
    entry = row.entry
    judged = entry.kind == EntryKind.JUDGED
    interval = entry.mean_interval
    return schemas.LeaderboardEntry(
        **_ranked_fields(row),
        category=entry.info.category,
        mean=entry.mean,
        mean_ci_low=interval[0] if interval else None,
        mean_ci_high=interval[1] if interval else None,
        judges=[judge for judge, _ in board.judges_of(entry)],
        attempts={
            track.value: cell.attempts
            for track, cell in sorted(entry.cells.items())
            if cell.attempts is not None
        }
        if judged
        else None,
        tracks={
            track.value: track_entry(cell, board.pairs.get(track), judged)
            for track, cell in sorted(entry.cells.items())
        },
    )


def _page_fields(
    board: Board, table: TableView, filters: EntryFilter, notes: tuple[str, ...]
) -> dict[str, Any]:
    computed_here = {name: COMPUTED_HERE[name] for name in notes}
    return {
        "matched": table.matched,
        "total": table.total,
        "page": table.page,
        "pages": table.pages,
        "page_size": table.page_size,
        "all": table.show_all,
        "sort": table.sort,
        "direction": table.direction,
        "columns": list(table.columns),
        "column_options": list(table.column_options),
        "filters": filters_payload(filters),
        "pairs": [pair_payload(pair) for pair in board.pairs.values()],
        "last_updated": board.last_updated,
        "generated_at": utcnow(),
        "computed_here": computed_here,
    }


def overview_payload(board: Board, table: TableView, filters: EntryFilter) -> schemas.Leaderboard:
    return schemas.Leaderboard(
        rank_by=table.rank_by or RANK_BY_MEAN,
        rank_by_options=list(RANK_BY_OPTIONS),
        entries=[overview_entry(board, row) for row in table.rows],
        **_page_fields(board, table, filters, ("mean", "rank_range")),
    )


class RankedPayload(Protocol):
    """What the overview's and a track's JSON rows share: rank, range and who the row is."""

    rank: int | None
    rank_best: int | None
    rank_worst: int | None
    model: str
    kind: EntryKind
    source: str | None
    group: str


def _ranked_csv() -> list[CsvField[Any]]:
    ranked: list[CsvField[RankedPayload]] = [
        CsvField(Column.RANK, "rank", lambda p: p.rank),
        CsvField(Column.RANK, "rank_best", lambda p: p.rank_best),
        CsvField(Column.RANK, "rank_worst", lambda p: p.rank_worst),
        CsvField(Column.MODEL, "model", lambda p: p.model),
        CsvField(Column.MODEL, "kind", lambda p: p.kind),
        CsvField(Column.MODEL, "source", lambda p: p.source),
        CsvField(Column.MODEL, "group", lambda p: p.group),
    ]
    return list(ranked)


def _cell(payload: schemas.LeaderboardEntry, track: Track) -> schemas.TrackEntry | None:
    return payload.tracks.get(track.value)


def _track_fields(track: Track) -> list[CsvField[schemas.LeaderboardEntry]]:
    """A track's score and interval (and T1's F1), rounded as the page shows them."""

    def rounded(name: str) -> Callable[[schemas.LeaderboardEntry], object]:
        return lambda p: shown(getattr(_cell(p, track), name, None))

    fields = [
        CsvField(track.value, f"{track}_{name}", rounded(name))
        for name in ("score", "ci_low", "ci_high")
    ]
    if track == Track.T1:
        fields.append(CsvField(Column.T1_F1, "T1_f1", rounded("f1")))
    return fields


def _attempts(track: Track) -> Callable[[schemas.LeaderboardEntry], object]:
    return lambda p: (p.attempts or {}).get(track.value)


def _rubric(track: Track) -> Callable[[schemas.LeaderboardEntry], object]:
    return lambda p: getattr(_cell(p, track), "rubric_version", None)


# The overview CSV: each field belongs to the table column cols= keeps or drops it with.
OVERVIEW_CSV: tuple[CsvField[schemas.LeaderboardEntry], ...] = (
    *_ranked_csv(),
    CsvField(Column.ORGANISATION, "organisation", lambda p: p.organisation),
    CsvField(Column.SIZE, "parameters_b", lambda p: shown_size(p.parameter_count)),
    CsvField(Column.MODEL, "open_weights", lambda p: p.open_weights),
    CsvField(Column.MODEL, "medical", lambda p: p.medical),
    CsvField(Column.MODEL, "category", lambda p: p.category),
    *(field for track in Track for field in _track_fields(track)),
    CsvField(Column.MEAN, "mean", lambda p: shown(p.mean)),
    CsvField(Column.MEAN, "mean_ci_low", lambda p: shown(p.mean_ci_low)),
    CsvField(Column.MEAN, "mean_ci_high", lambda p: shown(p.mean_ci_high)),
    CsvField(Column.MODEL, "judges", lambda p: " ".join(p.judges)),
    *(CsvField(track.value, f"{track}_attempts", _attempts(track)) for track in Track),
    *(CsvField(track.value, f"{track}_rubric_version", _rubric(track)) for track in Track),
)


def overview_csv(board: Board, table: TableView, columns: Sequence[str]) -> str:
    payloads = [overview_entry(board, row) for row in table.all_rows]
    return csv_table(OVERVIEW_CSV, columns, payloads)


def track_board_entry(board: Board, track: Track, row: RankedEntry) -> schemas.TrackBoardEntry:
    entry = row.entry
    cell = entry.cells[track]
    pair = board.judge_of(entry, track)
    return schemas.TrackBoardEntry(
        **_ranked_fields(row),
        score=cell.score,
        ci_low=cell.ci_low,
        ci_high=cell.ci_high,
        f1=cell.f1,
        dimension_means=dict(cell.dimension_means),
        item_count=cell.item_count,
        answered_count=cell.answered_count,
        coverage=cell.coverage,
        judge_errors=cell.judge_errors,
        submission_id=cell.submission_id,
        submitted_at=cell.submitted_at,
        judge=pair.judge_model if pair else None,
        judge_is_reference=pair.judge_is_reference if pair else False,
        attempts=cell.attempts,
    )


def track_payload(
    board: Board, track: Track, table: TableView, filters: EntryFilter
) -> schemas.TrackBoard:
    pair = board.pairs.get(track)
    return schemas.TrackBoard(
        track=track.value,
        title=track.label,
        pair=pair_payload(pair) if pair else None,
        entries=[track_board_entry(board, track, row) for row in table.rows],
        **_page_fields(board, table, filters, ("rank_range",)),
    )


def _dimension_csv(track: Track, dimension: str) -> CsvField[schemas.TrackBoardEntry]:
    """A dimension's mean under its human name, with the id that names it in the JSON."""
    return CsvField(
        dimension_column(dimension),
        f"{dimension_label(dimension, track)} ({dimension})",
        lambda p: shown(p.dimension_means.get(dimension)),
    )


def track_csv(board: Board, track: Track, table: TableView, columns: Sequence[str]) -> str:
    pair = board.pairs.get(track)

    def rubric(p: schemas.TrackBoardEntry) -> str | None:
        return pair.rubric_version if pair and p.kind == EntryKind.JUDGED else None

    def judge_errors(p: schemas.TrackBoardEntry) -> int | None:
        # A reported row was not judged here: its judge errors do not apply (empty, not 0).
        return p.judge_errors if p.kind == EntryKind.JUDGED else None

    fields: list[CsvField[schemas.TrackBoardEntry]] = [
        *_ranked_csv(),
        CsvField(Column.ORGANISATION, "organisation", lambda p: p.organisation),
        CsvField(Column.SIZE, "parameters_b", lambda p: shown_size(p.parameter_count)),
        CsvField(Column.SCORE, "score", lambda p: shown(p.score)),
        CsvField(Column.SCORE, "ci_low", lambda p: shown(p.ci_low)),
        CsvField(Column.SCORE, "ci_high", lambda p: shown(p.ci_high)),
        *([CsvField(Column.F1, "f1", lambda p: shown(p.f1))] if track == Track.T1 else []),
        *(_dimension_csv(track, d.id) for d in (pair.dimensions if pair else ())),
        CsvField(Column.ITEMS, "item_count", lambda p: p.item_count),
        CsvField(Column.ITEMS, "answered_count", lambda p: p.answered_count),
        CsvField(Column.COVERAGE, "coverage", lambda p: shown_share(p.coverage)),
        CsvField(Column.COVERAGE, "judge_errors", judge_errors),
        CsvField(Column.MODEL, "submission_id", lambda p: p.submission_id),
        CsvField(Column.SCORE, "judge", lambda p: p.judge),
        CsvField(Column.MODEL, "attempts", lambda p: p.attempts),
        CsvField(Column.SCORE, "rubric_version", rubric),
    ]
    payloads = [track_board_entry(board, track, row) for row in table.all_rows]
    return csv_table(fields, columns, payloads)


def csv_columns(table: TableView, params: schemas.TableParams) -> tuple[str, ...]:
    """The columns a CSV carries: those chosen with cols=, else every one the table offers."""
    return table.columns if params.columns() else table.column_options


def overview_query_of(params: schemas.OverviewParams) -> TableQuery:
    return replace(query_of(params), rank_by=params.rank_by)


async def load_overview(
    views: BoardViews, board: Board, params: schemas.OverviewParams
) -> TableView:
    """The overview's page of entries the parameters select."""
    return overview_table(board, overview_query_of(params), views.settings.leaderboard_page_size)


def overview_body(board: Board, table: TableView, params: schemas.OverviewParams) -> Body:
    """The overview as JSON, or as CSV with `format=csv`."""
    if params.format == "csv":
        body = overview_csv(board, table, csv_columns(table, params))
        return Body.of(body, CSV, "leaderboard.csv")
    return json_body(overview_payload(board, table, filters_of(params)))


OVERVIEW = BoardView("overview", load_overview, overview_body)


def track_view(track: Track) -> BoardView[schemas.TableParams, TableView]:
    """A track's board: its page of entries as JSON, or as CSV with `format=csv`."""

    async def load(views: BoardViews, board: Board, params: schemas.TableParams) -> TableView:
        return track_table(board, track, query_of(params), views.settings.leaderboard_page_size)

    def export(board: Board, table: TableView, params: schemas.TableParams) -> Body:
        if params.format == "csv":
            body = track_csv(board, track, table, csv_columns(table, params))
            return Body.of(body, CSV, f"{track.value}.csv")
        return json_body(track_payload(board, track, table, filters_of(params)))

    return BoardView(f"track:{track.value}", load, export)
