"""The analyses (domain gap, judge consistency): their parameters, JSON payloads and CSV tables."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from pydantic import Field

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
from app.tracks import Track
from app.web.api.schemas import views as schemas
from app.web.api.schemas.fields import PlainLine
from app.web.csv_export import to_csv
from app.web.http_cache import Body
from app.web.views.common import (
    BoardView,
    BoardViews,
    BoardViewsDep,
    filters_of,
    filters_payload,
    pair_payload,
    tables_body,
)

DOMAIN_GAP_TABLES = ("gaps", "scores")
CONSISTENCY_TABLES = ("correlations", "firsts")
NO_LABELS = "no human labels yet"


class AnalysisParams(schemas.ViewParams):
    """The view parameters plus the analyses' source of scores."""

    source: PlainLine = Field(
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


def _page_fields(
    board: Board,
    source: Source,
    entries: int,
    definitions: Sequence[Definition],
    filters: EntryFilter,
) -> dict[str, Any]:
    """The fields of `schemas.AnalysisPage`."""
    return {
        "entries": entries,
        "source": source_payload(board, source),
        "computed_here": definitions_payload(definitions),
        "filters": filters_payload(filters),
        "pairs": [pair_payload(pair) for pair in board.pairs.values()],
        "generated_at": utcnow(),
    }


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
        **_page_fields(board, view.source, view.entries, DOMAIN_GAP_DEFINITIONS, filters),
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
        **_page_fields(board, view.source, view.entries, CONSISTENCY_DEFINITIONS, filters),
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


async def load_domain_gap(views: BoardViews, board: Board, params: AnalysisParams) -> DomainGapView:
    """The domain gap of the board's entries the parameters select, with its intervals."""
    return await domain_gap_view(
        views.session,
        board,
        filters_of(params),
        resamples=views.settings.bootstrap_resamples,
        seed=views.settings.bootstrap_seed,
        source=parse_source(params.source, board),
    )


async def load_consistency(_: BoardViews, board: Board, params: AnalysisParams) -> ConsistencyView:
    return consistency_view(board, filters_of(params), parse_source(params.source, board))


def domain_gap_body(board: Board, view: DomainGapView, params: AnalysisParams) -> Body:
    """The domain gap as JSON, or one of its tables as CSV with `format=csv`."""
    payload = domain_gap_payload(board, view, filters_of(params))
    return tables_body(payload, params, domain_gap_csv, "gaps", "domain-gap")


def consistency_body(board: Board, view: ConsistencyView, params: AnalysisParams) -> Body:
    """The consistency analysis as JSON, or one of its tables as CSV with `format=csv`."""
    payload = consistency_payload(board, view, filters_of(params))
    return tables_body(payload, params, consistency_csv, "correlations", "consistency")


DOMAIN_GAP = BoardView("domain-gap", load_domain_gap, domain_gap_body)
CONSISTENCY = BoardView("consistency", load_consistency, consistency_body)


def analysis_endpoint(
    surface: str,
    analysis: BoardView[AnalysisParams, Any],
    html: Callable[[Board, Any, AnalysisParams], Body] | None = None,
) -> Callable[..., Awaitable[Response]]:
    """The route of an analysis: its JSON or CSV (`surface` "api"), or its page given `html`."""

    async def endpoint(views: BoardViewsDep, params: AnalysisParamsDep) -> Response:
        return await views.answer(surface, analysis, params, html)

    return endpoint
