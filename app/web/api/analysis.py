"""The analyses as JSON and CSV: the domain-specialisation gap and cross-track consistency.

Every view names its source (`source=paper` by default, `judge:<name>`, or `mixed`) and defines
each number it computes that the paper does not report (`computed_here`).
"""

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.db.base import utcnow
from app.errors import InvalidInput
from app.leaderboard.board import Board, Entry
from app.leaderboard.table import EntryFilter
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
    consistency_view,
    domain_gap_view,
    parse_source,
    source_options,
    value_judge,
)
from app.services.reliability import JudgeTrackReport, judge_report
from app.tracks import Track
from app.web.api import schemas
from app.web.api.leaderboard import (
    CSV,
    CSV_RESPONSES,
    JSON,
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
    params: AnalysisParamsDep,
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
            source=parse_source(params.source, board),
        )
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
    params: AnalysisParamsDep,
) -> Response:
    async def render(stamp: Hashable) -> Body:
        board = await load_board(session, cache, params, stamp)
        filters = filters_of(params)
        view = consistency_view(board, filters, parse_source(params.source, board))
        payload = consistency_payload(board, view, filters)
        if params.format == "csv":
            table = params.table or "correlations"
            return Body.of(consistency_csv(payload, table), CSV, f"consistency-{table}.csv")
        return Body.of(payload.model_dump_json(), JSON)

    return await cached_response(request, session, cache, "api:consistency", params, render)


# --------------------------------------------------------------------------------------------
# The judge in public
# --------------------------------------------------------------------------------------------

NO_LABELS = "no human labels yet"


class DimensionAgreementOut(BaseModel):
    dimension: str
    name: str
    scale: str = Field(description="YES/NO or 0–max")
    statistic: str = Field(description="Cohen's kappa, or quadratic-weighted kappa (ordinal)")
    items: int = Field(description="Labelled items with a judge rating on this dimension")
    pairs: int = Field(description="(judge, human label) pairs; two raters on an item: two")
    accuracy: float | None
    kappa: float | None
    human_kappa: float | None = Field(description="Two human raters on the same items: ceiling")
    human_items: int = Field(description="Items both human raters labelled")


class RateOut(BaseModel):
    key: str
    name: str
    definition: str
    count: int
    items: int = Field(description="Items sent to the judge over its scored runs")
    value: float | None = Field(description="count / items; null when nothing was judged yet")


class JudgeTrackOut(BaseModel):
    track: str
    judge_model: str
    judge_is_reference: bool = Field(description="True: the reference stand-in, not a real judge")
    rubric_version: str
    human_labels: int = Field(description="Human labels imported for this track")
    agreement: list[DimensionAgreementOut] | None = Field(
        description="Per rubric dimension; null when no label meets a judge rating"
    )
    agreement_note: str | None = Field(description=f"'{NO_LABELS}' when agreement is null")
    runs: int = Field(description="Scored runs under the active rubric version and judge")
    rates: list[RateOut]


class JudgeReliability(BaseModel):
    tracks: list[JudgeTrackOut]
    generated_at: datetime


def judge_payload(reports: Sequence[JudgeTrackReport]) -> JudgeReliability:
    tracks = []
    for report in reports:
        rel = report.reliability
        agreement = [
            DimensionAgreementOut(
                dimension=d.dimension,
                name=d.name,
                scale=d.scale,
                statistic="quadratic-weighted kappa" if d.weighted else "Cohen's kappa",
                items=d.items,
                pairs=d.pairs,
                accuracy=d.accuracy,
                kappa=d.kappa,
                human_kappa=d.human_kappa,
                human_items=d.human_items,
            )
            for d in rel.dimensions
        ]
        tracks.append(
            JudgeTrackOut(
                track=report.track.value,
                judge_model=rel.judge_model,
                judge_is_reference=rel.judge_is_reference,
                rubric_version=rel.rubric_version,
                human_labels=rel.labels,
                agreement=agreement if report.has_labels else None,
                agreement_note=None if report.has_labels else NO_LABELS,
                runs=report.runs,
                rates=[
                    RateOut(
                        key=r.rate.key,
                        name=r.rate.name,
                        definition=r.rate.definition,
                        count=r.count,
                        items=r.items,
                        value=r.value,
                    )
                    for r in report.rates
                ],
            )
        )
    return JudgeReliability(tracks=tracks, generated_at=utcnow())


@router.get(
    "/analysis/judge",
    response_model=JudgeReliability,
    summary="Per track, the active judge's agreement with human labels and its error rates",
)
async def get_judge(session: SessionDep) -> JudgeReliability:
    return judge_payload(await judge_report(session))
