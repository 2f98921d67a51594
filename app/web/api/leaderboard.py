"""The leaderboards as JSON and CSV: the overview, each track, each model.

Every route reads a cached board (rebuilt only when the change stamp moves), builds its view,
and renders it once per (parameters, stamp); repeated requests are a stamp query and a dict
lookup, and a client holding the ETag gets a 304.
"""

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db.base import utcnow
from app.errors import InvalidInput, NotFound
from app.leaderboard.board import Board, BoardPair, Cell, EntryKind, Selection
from app.leaderboard.table import (
    COMPUTED_HERE,
    DIMENSION_PREFIX,
    EntryFilter,
    RankedEntry,
    TableQuery,
    TableView,
    overview_table,
    track_table,
)
from app.services import leaderboard as service
from app.services import model_page
from app.services.model_page import ModelView
from app.tracks import Track
from app.web.api import schemas
from app.web.csv_export import to_csv
from app.web.deps import SessionDep, SettingsDep, get_runtime
from app.web.http_cache import Body, ViewCache, ViewCacheDep, respond

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])

CSV = "text/csv; charset=utf-8"
JSON = "application/json"
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON or CSV"},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
}

ParamsDep = Annotated[schemas.ViewParams, Query()]


# --------------------------------------------------------------------------------------------
# Shared by the JSON routes and the HTML pages
# --------------------------------------------------------------------------------------------


def selection_of(params: schemas.ViewParams) -> Selection:
    return Selection(rubrics=tuple(params.rubric), judge=params.judge)


def filters_of(params: schemas.ViewParams) -> EntryFilter:
    return EntryFilter(domain=params.domain, access=params.access, kind=params.kind, q=params.q)


def query_of(params: schemas.ViewParams) -> TableQuery:
    return TableQuery(
        filters=filters_of(params),
        sort=params.sort,
        direction=params.dir,
        page=params.page,
        show_all=params.all,
    )


async def load_board(
    session: SessionDep, cache: ViewCache, params: schemas.ViewParams, stamp: Hashable
) -> Board:
    selection = selection_of(params)
    return await cache.get_or_build(
        ("board", selection.cache_key, stamp), lambda: service.build_board(session, selection)
    )


async def cached_response(
    request: Request,
    session: SessionDep,
    cache: ViewCache,
    view: str,
    params: schemas.ViewParams,
    render: Callable[[Hashable], Awaitable[Body]],
) -> Response:
    """Render `view` once per (parameters, change stamp) and answer with validators."""
    settings = (await get_runtime(request)).settings
    stamp = await cache.stamp(
        lambda: service.board_stamp(session), settings.leaderboard_recheck_seconds
    )
    body = await cache.get_or_build((view, params.cache_key(), stamp), lambda: render(stamp))
    return respond(request, body)


def pair_payload(pair: BoardPair) -> schemas.BoardPair:
    return schemas.BoardPair.model_validate(pair)


def filters_payload(filters: EntryFilter) -> schemas.ViewFilters:
    return schemas.ViewFilters.model_validate(filters)


def track_entry(cell: Cell, pair: BoardPair | None, judged: bool) -> schemas.TrackEntry:
    """A cell as read from the board; the rubric and judge come from the track's pair."""
    entry = schemas.TrackEntry.model_validate(cell)
    if judged and pair is not None:
        entry.rubric_version = pair.rubric_version
        entry.judge_model = pair.judge_model
        entry.judge_is_reference = pair.judge_is_reference
    return entry


def _marks(row: RankedEntry, mark: str) -> list[str]:
    return [column for column, value in row.marks.items() if value == mark]


def overview_entry(board: Board, row: RankedEntry) -> schemas.LeaderboardEntry:
    entry = row.entry
    judged = entry.kind == EntryKind.JUDGED
    interval = entry.mean_interval
    return schemas.LeaderboardEntry(
        rank=row.rank,
        rank_best=row.rank_range[0] if row.rank_range else None,
        rank_worst=row.rank_range[1] if row.rank_range else None,
        model=entry.model,
        organisation=entry.info.organisation,
        open_weights=entry.info.open_weights,
        medical=entry.info.medical,
        category=entry.info.category,
        group=entry.group,
        kind=entry.kind,
        source=entry.source,
        mean=entry.mean,
        mean_ci_low=interval[0] if interval else None,
        mean_ci_high=interval[1] if interval else None,
        best=_marks(row, "best"),
        second=_marks(row, "second"),
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
                cell.score if cell else None,
                cell.ci_low if cell else None,
                cell.ci_high if cell else None,
            ]
            if track == Track.T1:
                values.append(cell.f1 if cell else None)
        values += [payload.mean, payload.mean_ci_low, payload.mean_ci_high]
        rows.append(values)
    return to_csv(OVERVIEW_CSV_HEADER, rows)


def track_board_entry(track: Track, row: RankedEntry) -> schemas.TrackBoardEntry:
    entry = row.entry
    cell = entry.cells[track]
    return schemas.TrackBoardEntry(
        rank=row.rank,
        rank_best=row.rank_range[0] if row.rank_range else None,
        rank_worst=row.rank_range[1] if row.rank_range else None,
        model=entry.model,
        kind=entry.kind,
        source=entry.source,
        group=entry.group,
        open_weights=entry.info.open_weights,
        medical=entry.info.medical,
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
        best=_marks(row, "best"),
        second=_marks(row, "second"),
    )


def track_payload(
    board: Board, track: Track, table: TableView, filters: EntryFilter
) -> schemas.TrackBoard:
    pair = board.pairs.get(track)
    return schemas.TrackBoard(
        track=track.value,
        title=track.label,
        pair=pair_payload(pair) if pair else None,
        entries=[track_board_entry(track, row) for row in table.rows],
        **_page_fields(board, table, filters, ("rank_range",)),
    )


def track_csv(board: Board, track: Track, table: TableView) -> str:
    pair = board.pairs.get(track)
    dims = [d.id for d in pair.dimensions] if pair else []
    header = ["rank", "rank_best", "rank_worst", "model", "kind", "source", "group", "score"]
    header += ["ci_low", "ci_high"] + (["f1"] if track == Track.T1 else [])
    header += [f"{DIMENSION_PREFIX}{d}" for d in dims]
    header += ["item_count", "answered_count", "coverage", "judge_errors", "submission_id"]
    rows = []
    for row in table.all_rows:
        p = track_board_entry(track, row)
        values: list[object] = [p.rank, p.rank_best, p.rank_worst, p.model, p.kind, p.source]
        values += [p.group, p.score, p.ci_low, p.ci_high]
        if track == Track.T1:
            values.append(p.f1)
        values += [p.dimension_means.get(d) for d in dims]
        values += [p.item_count, p.answered_count, p.coverage, p.judge_errors, p.submission_id]
        rows.append(values)
    return to_csv(header, rows)


def model_payload(view: ModelView) -> schemas.ModelPage:
    info = view.info
    scores: list[schemas.ModelTrackScore] = []
    for entry in (view.judged, view.reported):
        if entry is None:
            continue
        judged = entry.kind == EntryKind.JUDGED
        for track, cell in sorted(entry.cells.items()):
            pair = view.pairs.get(track)
            scores.append(
                schemas.ModelTrackScore(
                    **dict(track_entry(cell, pair, judged)),
                    track=track.value,
                    kind=entry.kind,
                    source=entry.source,
                    rank=view.ranks.get(track) if judged else None,
                    ranked=view.board_size.get(track) if judged else None,
                    board=f"/tracks/{track.value}" if judged else None,
                )
            )
    shown = {
        cell.submission_id
        for cell in (view.judged.cells.values() if view.judged else [])
        if cell.submission_id is not None
    }
    return schemas.ModelPage(
        model=schemas.ModelInfoOut.model_validate(info),
        scores=scores,
        reported_protocol=view.reported.protocol if view.reported else None,
        history=[
            schemas.SubmissionHistoryEntry(
                submission_id=h.submission_id,
                track=h.track.value,
                created_at=h.created_at,
                filename=h.filename,
                pinned=h.pinned,
                answered=h.answered,
                total_items=h.total_items,
                score=h.score,
                f1=h.f1,
                shown=h.submission_id in shown,
            )
            for h in view.history
        ],
        pairs=[pair_payload(pair) for pair in view.pairs.values()],
        generated_at=utcnow(),
    )


MODEL_TABLES = ("scores", "dimensions", "history")


def model_csv(page: schemas.ModelPage, table: str) -> str:
    if table == "scores":
        header = ["track", "kind", "source", "score", "ci_low", "ci_high", "f1", "coverage"]
        header += ["item_count", "judge_errors", "rubric_version", "judge_model"]
        header += ["judge_is_reference", "rank", "ranked", "submission_id"]
        return to_csv(
            header,
            (
                [
                    *(s.track, s.kind, s.source, s.score, s.ci_low, s.ci_high, s.f1, s.coverage),
                    *(s.item_count, s.judge_errors, s.rubric_version, s.judge_model),
                    *(s.judge_is_reference, s.rank, s.ranked, s.submission_id),
                ]
                for s in page.scores
            ),
        )
    if table == "dimensions":
        names = {(p.track.value, d.id): d.name for p in page.pairs for d in p.dimensions}
        return to_csv(
            ["track", "dimension", "name", "mean"],
            (
                [s.track, dim, names.get((s.track, dim), dim), mean]
                for s in page.scores
                for dim, mean in s.dimension_means.items()
            ),
        )
    if table == "history":
        header = ["submission_id", "track", "created_at", "filename", "pinned", "answered"]
        header += ["total_items", "score", "f1", "shown"]
        return to_csv(
            header,
            (
                [
                    *(h.submission_id, h.track, h.created_at.isoformat(), h.filename, h.pinned),
                    *(h.answered, h.total_items, h.score, h.f1, h.shown),
                ]
                for h in page.history
            ),
        )
    raise InvalidInput(f"table must be one of {', '.join(MODEL_TABLES)}, not {table!r}")


def quote_name(name: str) -> str:
    """A model name as one URL path segment."""
    return quote(name, safe="")


def parse_track(value: str) -> Track:
    try:
        return Track(value.upper())
    except ValueError:
        raise NotFound(
            f"no track {value!r}: the tracks are {', '.join(t.value for t in Track)}"
        ) from None


def _json(model: Any) -> Body:
    return Body.of(model.model_dump_json(), JSON)


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


@router.get(
    "/leaderboard",
    response_model=schemas.Leaderboard,
    responses=CSV_RESPONSES,
    summary="The overview: one row per entry, T1 Score, T1 F1, T2–T4 and their mean",
)
async def get_leaderboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cache: ViewCacheDep,
    params: ParamsDep,
) -> Response:
    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        table = overview_table(board, query_of(params), settings.leaderboard_page_size)
        if params.format == "csv":
            return Body.of(overview_csv(board, table), CSV, "leaderboard.csv")
        return _json(overview_payload(board, table, filters_of(params)))

    return await cached_response(request, session, cache, "api:overview", params, render)


@router.get(
    "/tracks/{track}",
    response_model=schemas.TrackBoard,
    responses=CSV_RESPONSES,
    summary="One track: score, interval, per-dimension means, items and coverage",
)
async def get_track(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cache: ViewCacheDep,
    track: str,
    params: ParamsDep,
) -> Response:
    which = parse_track(track)

    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        table = track_table(board, which, query_of(params), settings.leaderboard_page_size)
        if params.format == "csv":
            return Body.of(track_csv(board, which, table), CSV, f"{which.value}.csv")
        return _json(track_payload(board, which, table, filters_of(params)))

    return await cached_response(
        request, session, cache, f"api:track:{which.value}", params, render
    )


@router.get(
    "/leaderboard/models/{name:path}",
    response_model=schemas.ModelPage,
    responses=CSV_RESPONSES,
    summary="A model: metadata, scores with intervals, dimensions, published submissions",
)
async def get_model(
    request: Request,
    session: SessionDep,
    cache: ViewCacheDep,
    name: str,
    params: ParamsDep,
) -> Response:
    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        page = model_payload(await model_page.model_view(session, board, name))
        if params.format == "csv":
            table = params.table or "scores"
            return Body.of(model_csv(page, table), CSV, f"model-{table}.csv")
        return _json(page)

    return await cached_response(request, session, cache, f"api:model:{name}", params, render)
