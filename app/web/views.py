"""View helpers shared by the JSON API (`app.web.api`) and the HTML pages (`app.web.pages`).

Query parameters turned into a board selection, filters and a table query; the cached board and
the cached response; every payload built from a board (the JSON bodies and their CSV tables).
Routes live in `app.web.api` and `app.web.pages`; neither imports the other, both import this.
"""

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import Field

from app.db.base import utcnow
from app.errors import InvalidInput, NotFound
from app.leaderboard.board import Board, BoardPair, Cell, Entry, EntryKind, Selection
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
from app.services import leaderboard as service
from app.services.analysis import (
    CONSISTENCY_DEFINITIONS,
    DOMAIN_GAP_DEFINITIONS,
    PAPER,
    Comparison,
    ConsistencyView,
    Definition,
    DomainGapView,
    GroupScores,
    Source,
    source_options,
    value_judge,
)
from app.services.model_page import ModelView
from app.tracks import Track
from app.web.api import schemas
from app.web.api.provenance import provenance_url
from app.web.csv_export import to_csv
from app.web.deps import SessionDep, get_runtime
from app.web.http_cache import Body, ViewCache, respond

# --------------------------------------------------------------------------------------------
# Leaderboards
# --------------------------------------------------------------------------------------------

CSV = "text/csv; charset=utf-8"
JSON = "application/json"
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON or CSV"},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
}

ParamsDep = Annotated[schemas.ViewParams, Query()]
OverviewParamsDep = Annotated[schemas.OverviewParams, Query()]


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
        entry.judge = pair.judge_model
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
        values.append(" ".join(payload.judges))
        attempts = payload.attempts or {}
        values += [attempts.get(track.value) for track in Track]
        rows.append(values)
    return to_csv(OVERVIEW_CSV_HEADER, rows)


def track_board_entry(board: Board, track: Track, row: RankedEntry) -> schemas.TrackBoardEntry:
    entry = row.entry
    cell = entry.cells[track]
    pair = board.judge_of(entry, track)
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
        judge=pair.judge_model if pair else None,
        judge_is_reference=pair.judge_is_reference if pair else False,
        attempts=cell.attempts,
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
    header += ["judge", "attempts"]
    rows = []
    for row in table.all_rows:
        p = track_board_entry(board, track, row)
        values: list[object] = [p.rank, p.rank_best, p.rank_worst, p.model, p.kind, p.source]
        values += [p.group, p.score, p.ci_low, p.ci_high]
        if track == Track.T1:
            values.append(p.f1)
        values += [p.dimension_means.get(d) for d in dims]
        values += [p.item_count, p.answered_count, p.coverage, p.judge_errors, p.submission_id]
        values += [p.judge, p.attempts]
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
                    provenance_url=provenance_url(cell.run_id)
                    if judged and cell.run_id is not None
                    else None,
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
                provenance_url=provenance_url(h.run_id) if h.run_id is not None else None,
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
        header += ["judge_is_reference", "rank", "ranked", "submission_id", "attempts"]
        header += ["provenance_url"]
        return to_csv(
            header,
            (
                [
                    *(s.track, s.kind, s.source, s.score, s.ci_low, s.ci_high, s.f1, s.coverage),
                    *(s.item_count, s.judge_errors, s.rubric_version, s.judge_model),
                    *(s.judge_is_reference, s.rank, s.ranked, s.submission_id, s.attempts),
                    s.provenance_url,
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


def json_body(model: Any) -> Body:
    return Body.of(model.model_dump_json(), JSON)


def overview_query_of(params: schemas.OverviewParams) -> TableQuery:
    return replace(query_of(params), rank_by=params.rank_by)


def overview_body(board: Board, params: schemas.OverviewParams, page_size: int) -> Body:
    """The overview as JSON, or as CSV with `format=csv`."""
    table = overview_table(board, overview_query_of(params), page_size)
    if params.format == "csv":
        return Body.of(overview_csv(board, table), CSV, "leaderboard.csv")
    return json_body(overview_payload(board, table, filters_of(params)))


def track_body(board: Board, track: Track, params: schemas.ViewParams, page_size: int) -> Body:
    """A track's table as JSON, or as CSV with `format=csv`."""
    table = track_table(board, track, query_of(params), page_size)
    if params.format == "csv":
        return Body.of(track_csv(board, track, table), CSV, f"{track.value}.csv")
    return json_body(track_payload(board, track, table, filters_of(params)))


def model_body(view: ModelView, params: schemas.ViewParams) -> Body:
    """A model's page as JSON, or one of its tables as CSV with `format=csv`."""
    page = model_payload(view)
    if params.format == "csv":
        table = params.table or "scores"
        return Body.of(model_csv(page, table), CSV, f"model-{table}.csv")
    return json_body(page)


# --------------------------------------------------------------------------------------------
# Analyses
# --------------------------------------------------------------------------------------------

DOMAIN_GAP_TABLES = ("gaps", "scores")
CONSISTENCY_TABLES = ("correlations", "firsts")
NO_LABELS = "no human labels yet"


class AnalysisParams(schemas.ViewParams):
    """The view parameters plus the analyses' source of scores."""

    source: str = Field(
        default=PAPER,
        max_length=240,
        description="paper (default): the paper's reported entries; judge:<judge model>: the "
        "entries judged here by that judge; mixed: every entry, judged values marked",
    )

    def query_items(self, **overrides: object) -> list[tuple[str, str]]:
        source = overrides.pop("source", self.source)
        items = super().query_items(**overrides)
        if source not in (None, "", PAPER):
            items.insert(0, ("source", str(source)))
        return items


AnalysisParamsDep = Annotated[AnalysisParams, Query()]


def source_payload(board: Board, source: Source) -> schemas.AnalysisSource:
    return schemas.AnalysisSource(
        param=source.param,
        kind=source.kind,
        judge_model=source.judge,
        description=source.description,
        options=[option.param for option in source_options(board)],
    )


def definitions_payload(definitions: Sequence[Definition]) -> list[schemas.ComputedHere]:
    return [
        schemas.ComputedHere(key=d.key, name=d.name, definition=d.definition) for d in definitions
    ]


def _side(board: Board, entry: Entry | None, track: Track) -> schemas.GapSide | None:
    if entry is None:
        return None
    return schemas.GapSide(
        model=entry.name,
        kind=entry.kind,
        score=entry.score(track),
        judge=value_judge(board, entry, track),
    )


def _comparison(board: Board, comparison: Comparison, track: Track) -> schemas.GapComparison:
    paired = comparison.paired
    return schemas.GapComparison(
        against=comparison.label,
        medical=_side(board, comparison.medical, track),
        other=_side(board, comparison.other, track),
        gap=comparison.gap,
        paired=None
        if paired is None
        else schemas.PairedGapOut(
            gap=paired.gap, ci_low=paired.low, ci_high=paired.high, items=paired.items
        ),
    )


def _distribution(
    board: Board, scores: GroupScores, entries: dict[str, Entry], track: Track
) -> schemas.Distribution:
    box = scores.box
    return schemas.Distribution(
        group=scores.group,
        scores=[
            schemas.GapSide(
                model=name,
                kind=entries[name].kind,
                score=score,
                judge=value_judge(board, entries[name], track),
            )
            for name, score in scores.points
        ],
        minimum=box.minimum if box else None,
        q1=box.q1 if box else None,
        median=box.median if box else None,
        q3=box.q3 if box else None,
        maximum=box.maximum if box else None,
    )


def domain_gap_payload(
    board: Board, view: DomainGapView, filters: EntryFilter
) -> schemas.DomainGap:
    entries = {entry.name: entry for entry in board.entries}
    return schemas.DomainGap(
        tracks=[
            schemas.TrackGapOut(
                track=t.track.value,
                title=t.track.label,
                peak_general=_side(board, t.peak_general, t.track),
                peak_medical=_side(board, t.peak_medical, t.track),
                vs_open=_comparison(board, t.vs_open, t.track),
                vs_closed=_comparison(board, t.vs_closed, t.track),
                finding=t.finding,
                general=_distribution(board, t.general, entries, t.track),
                medical=_distribution(board, t.medical, entries, t.track),
            )
            for t in view.tracks
        ],
        capacity_dilution=view.capacity_dilution,
        entries=view.entries,
        source=source_payload(board, view.source),
        computed_here=definitions_payload(DOMAIN_GAP_DEFINITIONS),
        filters=filters_payload(filters),
        pairs=[pair_payload(pair) for pair in board.pairs.values()],
        generated_at=utcnow(),
    )


def domain_gap_csv(payload: schemas.DomainGap, table: str) -> str:
    if table == "gaps":
        header = ["track", "against", "medical_model", "medical_kind", "medical_judge"]
        header += [
            "medical_score",
            "other_model",
            "other_kind",
            "other_judge",
            "other_score",
            "gap",
        ]
        header += ["paired_gap", "paired_ci_low", "paired_ci_high", "paired_items"]
        rows = []
        for t in payload.tracks:
            for c in (t.vs_open, t.vs_closed):
                med, other, paired = c.medical, c.other, c.paired
                rows.append(
                    [
                        t.track,
                        c.against,
                        med.model if med else None,
                        med.kind if med else None,
                        med.judge if med else None,
                        med.score if med else None,
                        other.model if other else None,
                        other.kind if other else None,
                        other.judge if other else None,
                        other.score if other else None,
                        c.gap,
                        paired.gap if paired else None,
                        paired.ci_low if paired else None,
                        paired.ci_high if paired else None,
                        paired.items if paired else None,
                    ]
                )
        return to_csv(header, rows)
    if table == "scores":
        return to_csv(
            ["track", "group", "model", "kind", "judge", "score"],
            (
                [t.track, d.group, s.model, s.kind, s.judge, s.score]
                for t in payload.tracks
                for d in (t.general, t.medical)
                for s in d.scores
            ),
        )
    raise InvalidInput(f"table must be one of {', '.join(DOMAIN_GAP_TABLES)}, not {table!r}")


def consistency_payload(
    board: Board, view: ConsistencyView, filters: EntryFilter
) -> schemas.Consistency:
    return schemas.Consistency(
        correlations=[
            schemas.CorrelationOut(a=c.a.value, b=c.b.value, rho=c.rho, n=c.n)
            for c in view.correlations
        ],
        firsts=[
            schemas.FirstPlacesOut(
                model=f.entry.name,
                kind=f.entry.kind,
                count=len(f.tracks),
                tracks=[t.value for t in f.tracks],
                judges=sorted(
                    {j for t in f.entry.cells if (j := value_judge(board, f.entry, t)) is not None}
                ),
            )
            for f in view.firsts
        ],
        leaders={t.value: [e.name for e in leaders] for t, leaders in view.leaders.items()},
        max_firsts=view.max_firsts,
        entries=view.entries,
        source=source_payload(board, view.source),
        computed_here=definitions_payload(CONSISTENCY_DEFINITIONS),
        filters=filters_payload(filters),
        pairs=[pair_payload(pair) for pair in board.pairs.values()],
        generated_at=utcnow(),
    )


def consistency_csv(payload: schemas.Consistency, table: str) -> str:
    if table == "correlations":
        return to_csv(
            ["a", "b", "rho", "n"], ([c.a, c.b, c.rho, c.n] for c in payload.correlations)
        )
    if table == "firsts":
        return to_csv(
            ["model", "kind", "judges", "count", "tracks"],
            (
                [f.model, f.kind, " ".join(f.judges), f.count, " ".join(f.tracks)]
                for f in payload.firsts
            ),
        )
    raise InvalidInput(f"table must be one of {', '.join(CONSISTENCY_TABLES)}, not {table!r}")
