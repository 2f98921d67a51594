"""HTML: the domain-specialisation gap (`/analysis/domain-gap`) and cross-track consistency
(`/analysis/consistency`), with server-rendered SVG charts."""

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.leaderboard.board import Board, EntryKind
from app.services.analysis import (
    CAPACITY_DILUTION,
    PAIRED_INTERVAL,
    PAPER_JUDGE,
    SPEARMAN_RHO,
    Comparison,
    ConsistencyView,
    DomainGapView,
    Source,
    source_options,
)
from app.services.reliability import judge_report
from app.tracks import Track
from app.web import charts
from app.web.deps import SessionDep
from app.web.http_cache import Body
from app.web.pages.leaderboard import common_context, link, render
from app.web.views.analysis import (
    CONSISTENCY,
    DOMAIN_GAP,
    NO_LABELS,
    AnalysisParams,
    analysis_endpoint,
)

router = APIRouter(include_in_schema=False)

# The charts' groups, one per track, and their labels under the axis.
TRACKS = [t.value for t in Track]
TRACK_LABELS = [f"{t.value} {t.label}" for t in Track]

SERIES = (
    charts.BarSeries("best closed", charts.BLUE),
    charts.BarSeries("best open general-purpose", charts.CYAN),
    charts.BarSeries("best medical", charts.RED),
)


# The phone drawing of a chart (see charts.COMPACT_WIDTH).
COMPACT: dict[str, Any] = {"width": charts.COMPACT_WIDTH, "height": 300, "compact": True}


def wide_and_compact(draw: Callable[..., Markup], chart_id: str) -> Markup:
    """Both drawings of one chart (`draw` takes the chart id and the size options)."""
    return charts.responsive(draw(chart_id), draw(f"{chart_id}-compact", **COMPACT))


def peak_chart(view: DomainGapView) -> Markup:
    """Fig. 3a: per track, the best closed, best open general-purpose and best medical score."""

    def value(group: str, series: str) -> charts.BarValue:
        track_view = view.track(Track(group))
        entry = {
            "best closed": track_view.vs_closed.other,
            "best open general-purpose": track_view.vs_open.other,
            "best medical": track_view.peak_medical,
        }[series]
        if entry is None:
            return charts.BarValue(None, None)
        track = Track(group)
        return charts.BarValue(entry.score(track), entry.name, view.mark(entry.name, track) or None)

    draw = partial(
        charts.grouped_bar_chart,
        title="Peak general-purpose vs peak medical score per track",
        groups=TRACKS,
        group_labels=TRACK_LABELS,
        series=SERIES,
        values=value,
    )
    return wide_and_compact(draw, "peak-chart")


def distribution_chart(view: DomainGapView) -> Markup:
    """Fig. 3b: every entry's score as a point over its group's box, per track."""
    groups = []
    for t in view.tracks:
        for scores, colour in ((t.general, charts.BLUE), (t.medical, charts.RED)):
            groups.append(
                charts.BoxGroup(
                    category=t.track.value,
                    group=scores.group,
                    colour=colour,
                    points=scores.points,
                    box=scores.box,
                    marks={
                        name: mark
                        for name, _ in scores.points
                        if (mark := view.mark(name, t.track))
                    },
                )
            )
    draw = partial(
        charts.box_points_chart,
        title="Score distributions of general-purpose and medical models per track",
        categories=TRACKS,
        category_labels=TRACK_LABELS,
        groups=groups,
        legend=[("general-purpose", charts.BLUE), ("medical", charts.RED)],
    )
    return wide_and_compact(draw, "distribution-chart")


def unpaired_reason(comparison: Comparison, track: Track) -> str | None:
    """Why a gap has no paired interval (None when it has one or there is no gap)."""
    if comparison.paired is not None or comparison.gap is None:
        return None
    medical, other = comparison.medical, comparison.other
    if medical is None or other is None:
        return None
    if medical.kind != EntryKind.JUDGED or other.kind != EntryKind.JUDGED:
        return "reported scores have no per-item results to pair"
    a, b = medical.cells.get(track), other.cells.get(track)
    if a is not None and b is not None and a.gold_version_id != b.gold_version_id:
        return "scored on different gold versions"
    return "no shared scored items"


def source_context(
    board: Board, source: Source, params: AnalysisParams, path: str
) -> dict[str, Any]:
    """The source selector: one permalink per source this board accepts."""
    return {
        "source": source,
        "paper_judge": PAPER_JUDGE,
        "sources": [
            (option, link(path, params, source=option.param, page=1), option == source)
            for option in source_options(board)
        ],
    }


def domain_gap_context(board: Board, view: DomainGapView, params: AnalysisParams) -> dict[str, Any]:
    context = common_context(
        board, params, "/analysis/domain-gap", "/api/v1/analysis/domain-gap", "Domain gap"
    )
    context.update(source_context(board, view.source, params, "/analysis/domain-gap"))
    t1, t3 = view.track(Track.T1), view.track(Track.T3)
    context.update(
        view=view,
        peak_chart=peak_chart(view),
        distribution_chart=distribution_chart(view),
        unpaired=lambda comparison, track: unpaired_reason(comparison, track),
        t1_gap=t1.vs_open.gap,
        t3_gap=t3.vs_open.gap,
        capacity_definition=CAPACITY_DILUTION,
        paired_definition=PAIRED_INTERVAL,
        mark=view.mark,
        scores_csv_url=link(
            "/api/v1/analysis/domain-gap", params, format="csv", table="scores", page=1
        ),
    )
    return context


def consistency_context(
    board: Board, view: ConsistencyView, params: AnalysisParams
) -> dict[str, Any]:
    context = common_context(
        board, params, "/analysis/consistency", "/api/v1/analysis/consistency", "Consistency"
    )
    context.update(source_context(board, view.source, params, "/analysis/consistency"))
    tracks = list(Track)
    grid = charts.correlation_grid(
        "correlation-chart",
        title="Spearman rank correlation between tracks",
        labels=[t.value for t in tracks],
        value=lambda i, j: view.rho(tracks[i], tracks[j]),
    )
    firsts = [f for f in view.firsts if f.tracks]
    context.update(
        view=view,
        grid=grid,
        firsts=firsts,
        others=view.entries - len(firsts),
        rho_definition=SPEARMAN_RHO,
        marks_of=lambda entry: sorted({m for m in view.marks.get(entry.name, {}).values() if m}),
        firsts_csv_url=link(
            "/api/v1/analysis/consistency", params, format="csv", table="firsts", page=1
        ),
    )
    return context


def domain_gap_html(board: Board, view: DomainGapView, params: AnalysisParams) -> Body:
    return render("analysis/domain_gap.html", domain_gap_context(board, view, params))


def consistency_html(board: Board, view: ConsistencyView, params: AnalysisParams) -> Body:
    return render("analysis/consistency.html", consistency_context(board, view, params))


for name, analysis, html in (
    ("domain_gap_page", DOMAIN_GAP, domain_gap_html),
    ("consistency_page", CONSISTENCY, consistency_html),
):
    router.add_api_route(
        f"/analysis/{analysis.name}",
        analysis_endpoint("page", analysis, html),
        methods=["GET"],
        response_class=HTMLResponse,
        name=name,
    )


@router.get("/analysis/judge", response_class=HTMLResponse)
async def judge_page(session: SessionDep) -> Response:
    reports = await judge_report(session)
    context = {"title": "Judge", "reports": reports, "no_labels": NO_LABELS}
    return HTMLResponse(render("analysis/judge.html", context).content)
