"""The overview and the per-track boards: their JSON payloads and CSV tables."""

from dataclasses import replace
from typing import Any

from app.db.base import utcnow
from app.leaderboard.board import Board, EntryKind
from app.leaderboard.table import (
    COMPUTED_HERE,
    DIMENSION_PREFIX,
    RANK_BY_MEAN,
    RANK_BY_OPTIONS,
    EntryFilter,
    RankedEntry,
    TableQuery,
    TableView,
    overview_table,
    track_table,
)
from app.tracks import Track
from app.web.api.schemas import views as schemas
from app.web.csv_export import to_csv
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
        organisation=entry.info.organisation,
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


OVERVIEW_CSV_HEADER = [
    "rank",
    "rank_best",
    "rank_worst",
    "model",
    "kind",
    "source",
    "group",
    "organisation",
    "open_weights",
    "medical",
    "category",
    *(
        f"{track}_{column}"
        for track in Track
        for column in ("score", "ci_low", "ci_high", "f1")
        if column != "f1" or track == Track.T1
    ),
    "mean",
    "mean_ci_low",
    "mean_ci_high",
    "judges",
    *(f"{track}_attempts" for track in Track),
    *(f"{track}_rubric_version" for track in Track),
]


def overview_csv(board: Board, table: TableView) -> str:
    rows = []
    for row in table.all_rows:
        payload = overview_entry(board, row)
        values: list[object] = [
            payload.rank,
            payload.rank_best,
            payload.rank_worst,
            payload.model,
            payload.kind,
            payload.source,
            payload.group,
            payload.organisation,
            payload.open_weights,
            payload.medical,
            payload.category,
        ]
        for track in Track:
            cell = payload.tracks.get(track.value)
            values += [
                shown(cell.score if cell else None),
                shown(cell.ci_low if cell else None),
                shown(cell.ci_high if cell else None),
            ]
            if track == Track.T1:
                values.append(shown(cell.f1 if cell else None))
        values += [shown(payload.mean), shown(payload.mean_ci_low), shown(payload.mean_ci_high)]
        values.append(" ".join(payload.judges))
        attempts = payload.attempts or {}
        values += [attempts.get(track.value) for track in Track]
        pairs = [board.judge_of(row.entry, track) for track in Track]
        values += [pair.rubric_version if pair else None for pair in pairs]
        rows.append(values)
    return to_csv(OVERVIEW_CSV_HEADER, rows)


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


def track_csv(board: Board, track: Track, table: TableView) -> str:
    pair = board.pairs.get(track)
    dims = [d.id for d in pair.dimensions] if pair else []
    header = ["rank", "rank_best", "rank_worst", "model", "kind", "source", "group", "score"]
    header += ["ci_low", "ci_high"] + (["f1"] if track == Track.T1 else [])
    header += [f"{DIMENSION_PREFIX}{d}" for d in dims]
    header += ["item_count", "answered_count", "coverage", "judge_errors", "submission_id"]
    header += ["judge", "attempts", "rubric_version"]
    rows = []
    for row in table.all_rows:
        p = track_board_entry(board, track, row)
        judged = p.kind == EntryKind.JUDGED
        values: list[object] = [p.rank, p.rank_best, p.rank_worst, p.model, p.kind, p.source]
        values += [p.group, shown(p.score), shown(p.ci_low), shown(p.ci_high)]
        if track == Track.T1:
            values.append(shown(p.f1))
        values += [shown(p.dimension_means.get(d)) for d in dims]
        values += [p.item_count, p.answered_count, shown_share(p.coverage)]
        # A reported row was not judged here: its judge errors do not apply (empty, not 0).
        values += [p.judge_errors if judged else None, p.submission_id]
        pair = board.judge_of(row.entry, track)
        values += [p.judge, p.attempts, pair.rubric_version if pair else None]
        rows.append(values)
    return to_csv(header, rows)


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
        return Body.of(overview_csv(board, table), CSV, "leaderboard.csv")
    return json_body(overview_payload(board, table, filters_of(params)))


OVERVIEW = BoardView("overview", load_overview, overview_body)


def track_view(track: Track) -> BoardView[schemas.ViewParams, TableView]:
    """A track's board: its page of entries as JSON, or as CSV with `format=csv`."""

    async def load(views: BoardViews, board: Board, params: schemas.ViewParams) -> TableView:
        return track_table(board, track, query_of(params), views.settings.leaderboard_page_size)

    def export(board: Board, table: TableView, params: schemas.ViewParams) -> Body:
        if params.format == "csv":
            return Body.of(track_csv(board, track, table), CSV, f"{track.value}.csv")
        return json_body(track_payload(board, track, table, filters_of(params)))

    return BoardView(f"track:{track.value}", load, export)
