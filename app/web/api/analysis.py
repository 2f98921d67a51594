"""The analyses as JSON and CSV: the domain-specialisation gap and cross-track consistency."""

from collections.abc import Hashable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db.base import utcnow
from app.errors import InvalidInput
from app.leaderboard.board import Board, Entry
from app.leaderboard.table import EntryFilter
from app.services.analysis import (
    Comparison,
    ConsistencyView,
    DomainGapView,
    GroupScores,
    consistency_view,
    domain_gap_view,
)
from app.tracks import Track
from app.web.api import schemas
from app.web.api.leaderboard import (
    CSV,
    CSV_RESPONSES,
    JSON,
    ParamsDep,
    cached_response,
    filters_of,
    filters_payload,
    load_board,
    pair_payload,
)
from app.web.csv_export import to_csv
from app.web.deps import SessionDep, SettingsDep
from app.web.http_cache import Body, ViewCacheDep

router = APIRouter(prefix="/api/v1", tags=["analysis"])

DOMAIN_GAP_TABLES = ("gaps", "scores")
CONSISTENCY_TABLES = ("correlations", "firsts")


def _side(entry: Entry | None, track: Track) -> schemas.GapSide | None:
    if entry is None:
        return None
    return schemas.GapSide(model=entry.name, kind=entry.kind, score=entry.score(track))


def _comparison(comparison: Comparison, track: Track) -> schemas.GapComparison:
    paired = comparison.paired
    return schemas.GapComparison(
        against=comparison.label,
        medical=_side(comparison.medical, track),
        other=_side(comparison.other, track),
        gap=comparison.gap,
        paired=None
        if paired is None
        else schemas.PairedGapOut(
            gap=paired.gap, ci_low=paired.low, ci_high=paired.high, items=paired.items
        ),
    )


def _distribution(scores: GroupScores, entries: dict[str, Entry]) -> schemas.Distribution:
    box = scores.box
    return schemas.Distribution(
        group=scores.group,
        scores=[
            schemas.GapSide(model=name, kind=entries[name].kind, score=score)
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
                peak_general=_side(t.peak_general, t.track),
                peak_medical=_side(t.peak_medical, t.track),
                vs_open=_comparison(t.vs_open, t.track),
                vs_closed=_comparison(t.vs_closed, t.track),
                finding=t.finding,
                general=_distribution(t.general, entries),
                medical=_distribution(t.medical, entries),
            )
            for t in view.tracks
        ],
        capacity_dilution=view.capacity_dilution,
        entries=view.entries,
        filters=filters_payload(filters),
        pairs=[pair_payload(pair) for pair in board.pairs.values()],
        generated_at=utcnow(),
    )


def domain_gap_csv(payload: schemas.DomainGap, table: str) -> str:
    if table == "gaps":
        header = ["track", "against", "medical_model", "medical_kind", "medical_score"]
        header += ["other_model", "other_kind", "other_score", "gap"]
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
                        med.score if med else None,
                        other.model if other else None,
                        other.kind if other else None,
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
            ["track", "group", "model", "kind", "score"],
            (
                [t.track, d.group, s.model, s.kind, s.score]
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
            )
            for f in view.firsts
        ],
        leaders={t.value: [e.name for e in leaders] for t, leaders in view.leaders.items()},
        max_firsts=view.max_firsts,
        entries=view.entries,
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
            ["model", "kind", "count", "tracks"],
            ([f.model, f.kind, f.count, " ".join(f.tracks)] for f in payload.firsts),
        )
    raise InvalidInput(f"table must be one of {', '.join(CONSISTENCY_TABLES)}, not {table!r}")


@router.get(
    "/analysis/domain-gap",
    response_model=schemas.DomainGap,
    responses=CSV_RESPONSES,
    summary="Best medical vs best general-purpose models per track (paper Sec. 4.2, Fig. 3)",
)
async def get_domain_gap(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cache: ViewCacheDep,
    params: ParamsDep,
) -> Response:
    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        filters = filters_of(params)
        view = await domain_gap_view(
            session,
            board,
            filters,
            resamples=settings.bootstrap_resamples,
            seed=settings.bootstrap_seed,
        )
        await session.commit()  # paired intervals computed for the first time are kept
        payload = domain_gap_payload(board, view, filters)
        if params.format == "csv":
            table = params.table or "gaps"
            return Body.of(domain_gap_csv(payload, table), CSV, f"domain-gap-{table}.csv")
        return Body.of(payload.model_dump_json(), JSON)

    return await cached_response(request, session, cache, "api:domain-gap", params, render)


@router.get(
    "/analysis/consistency",
    response_model=schemas.Consistency,
    responses=CSV_RESPONSES,
    summary="Spearman's ρ between tracks and first places per entry (paper Sec. 4.3)",
)
async def get_consistency(
    request: Request,
    session: SessionDep,
    cache: ViewCacheDep,
    params: ParamsDep,
) -> Response:
    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        filters = filters_of(params)
        payload = consistency_payload(board, consistency_view(board, filters), filters)
        if params.format == "csv":
            table = params.table or "correlations"
            return Body.of(consistency_csv(payload, table), CSV, f"consistency-{table}.csv")
        return Body.of(payload.model_dump_json(), JSON)

    return await cached_response(request, session, cache, "api:consistency", params, render)
