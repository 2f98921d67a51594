"""HTML leaderboards: the overview (`/`) and one page per track (`/tracks/T1` … `/tracks/T4`).

Handlers build a context dict from a cached board (`*_context` functions, which tests call
directly) and render it once per (parameters, change stamp). Every view is a permalink: sort,
filters, search, page and rubric version are query parameters.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from app.leaderboard.board import Board
from app.leaderboard.columns import Column, dimension_column
from app.leaderboard.filters import organisations
from app.leaderboard.presets import PRESETS
from app.leaderboard.table import (
    COMPUTED_HERE,
    RANK_BY_MEAN,
    RANK_BY_OPTIONS,
    TableView,
)
from app.tracks import Track
from app.web.api.schemas.views import OverviewParams, TableParams, ViewParams
from app.web.http_cache import Body
from app.web.templating import templates
from app.web.views.common import (
    BoardViewsDep,
    OverviewParamsDep,
    TableParamsDep,
    filters_of,
    parse_track,
)
from app.web.views.leaderboard import OVERVIEW, track_view

router = APIRouter(include_in_schema=False)

HTML = "text/html; charset=utf-8"

RANK_RANGE_NOTE = COMPUTED_HERE["rank_range"] + (
    " Overlapping intervals widen the range: a rank is only claimed where the intervals separate."
)


@dataclass(frozen=True)
class Head:
    """A sortable column header: label, tooltip (its definition) and the link that sorts by it."""

    key: str
    label: str
    tooltip: str
    numeric: bool
    url: str
    current: str | None  # "asc" / "desc" when the table is sorted by it


def link(path: str, params: ViewParams, **overrides: object) -> str:
    """A permalink to `path` with the current parameters and `overrides` (None drops one)."""
    items = params.query_items(**overrides)
    # Commas stay readable: cols=model,T1,T2 is the documented form.
    return path + ("?" + urlencode(items, safe=",") if items else "")


def heads(
    path: str, params: ViewParams, table: TableView, columns: list[tuple[str, str, str]]
) -> list[Head]:
    result = []
    for key, label, tooltip in columns:
        current = table.direction if table.sort == key else None
        # Not sorted by it yet: the column's natural direction; sorted by it: the other one.
        direction = None if current is None else ("asc" if current == "desc" else "desc")
        result.append(
            Head(
                key=key,
                label=label,
                tooltip=tooltip,
                numeric=key not in TEXT_COLUMNS,
                url=link(path, params, sort=key, dir=direction, page=1),
                current=current,
            )
        )
    return result


TEXT_COLUMNS = (Column.MODEL, Column.ORGANISATION)

# The filter form's fields, unset: what "Clear filters" drops and the form itself sends.
FILTER_FIELDS: dict[str, object] = {
    "domain": None,
    "access": None,
    "kind": None,
    "q": "",
    "organisation": "",
    "size_min": None,
    "size_max": None,
}


def table_context(
    board: Board,
    path: str,
    params: TableParams,
    table: TableView,
    columns: list[tuple[str, str, str]],
) -> dict[str, Any]:
    """A board table's headers, pager, filter form and column picker (cols=)."""
    return {
        "table": table,
        "heads": heads(path, params, table, [c for c in columns if c[0] in table.columns]),
        "pager": pager(path, params, table),
        "filter_keep": params.query_items(**FILTER_FIELDS, page=1),
        "filtered": filters_of(params).active,
        "organisations": organisations(board.entries),
        "column_choices": [
            (key, "Rank" if key == Column.RANK else label, key in table.columns)
            for key, label, _ in columns
            if key in table.column_options
        ],
        "column_keep": params.query_items(cols=[], page=1),
        "columns_reset_url": link(path, params, cols=[], page=1),
    }


def pager(path: str, params: ViewParams, table: TableView) -> dict[str, str | None]:
    return {
        "previous": link(path, params, page=table.page - 1) if table.page > 1 else None,
        "next": link(path, params, page=table.page + 1) if table.page < table.pages else None,
        "all": None if table.show_all else link(path, params, all=True, page=1),
        "paged": link(path, params, all=False, page=1) if table.show_all else None,
    }


def common_context(
    board: Board,
    params: ViewParams,
    path: str,
    api_path: str,
    title: str,
    track: Track | None = None,
) -> dict[str, Any]:
    """What every leaderboard and analysis page shows around its table; a track's page (`track`)
    offers only that track's older boards."""
    # Which older pairs the board shows: the banner's pairs, so the list and banner agree.
    shown = {(p.rubric_version, p.judge_model) for p in board.pairs.values() if not p.active}
    return {
        "title": title,
        "board": board,
        "params": params,
        "path": path,
        "pairs": list(board.pairs.values()),
        # Each older (rubric version, judge) pair, the link that opens it (view kept), and
        # whether it is the one shown.
        "older_boards": [
            (
                choice,
                link(
                    path, params, rubric=[choice.rubric_version], judge=choice.judge_model, page=1
                ),
                (choice.rubric_version, choice.judge_model) in shown,
            )
            for choice in board.choices
            if not choice.active and track in (None, choice.track)
        ],
        "is_current": board.is_current,
        "current_url": link(path, params, rubric=[], judge=None, page=1),
        "csv_url": link(api_path, params, format="csv", page=1, all=False),
        "json_url": link(api_path, params, page=params.page),
        "tracks": list(Track),
        "clear_url": link(path, params, **FILTER_FIELDS, page=1),
        "link": lambda **overrides: link(path, params, **overrides),
    }


ATTEMPTS_NOTE = (
    "Attempts: the team's scored submissions of the model on the track, private ones included. "
    "A team may score several submissions and publish only the best, so a best of many is a "
    "selected maximum, not one draw; the count shows how much selection stands behind a row."
)


def ranked_by(rank_by: str) -> str:
    """What the overview's rank means, in words."""
    if rank_by == RANK_BY_MEAN:
        return "the mean across tracks (computed here, not in the paper)"
    track = Track(rank_by)
    return f"the {track.value} {track.label.lower()} score"


def overview_columns(rank_by: str) -> list[tuple[str, str, str]]:
    rank = (
        Column.RANK,
        "#",
        f"Rank by {ranked_by(rank_by)} among the rows shown (filters apply); ties go to the "
        "earlier submission. Below it, the range of ranks compatible with the intervals.",
    )
    return [rank, MODEL_HEAD, *MODEL_HEADS, *SCORE_COLUMNS]


MODEL_HEAD = (Column.MODEL, "Model", "Model name and group; judged here, or reported in the paper")
MODEL_HEADS: list[tuple[str, str, str]] = [
    (Column.ORGANISATION, "Organisation", "The organisation behind the model, as submitted"),
    (Column.SIZE, "Size", "Parameters in billions (B), as submitted; – where not given"),
]


# The overview's score columns (after the rank, whose tooltip names what it ranks by, the model,
# its organisation and size).
SCORE_COLUMNS: list[tuple[str, str, str]] = [
    (
        "T1",
        "T1 Score",
        "T1 diagnosis: rubric score from the LLM judge, 0–100. Judged entries show their 95% "
        "bootstrap interval as +above / −below the score.",
    ),
    (
        "T1_F1",
        "T1 F1",
        "T1 diagnosis: SQuAD token F1 against the gold answer and its aliases, 0–100",
    ),
    ("T2", "T2", "T2 treatment planning: rubric score from the LLM judge, 0–100"),
    ("T3", "T3", "T3 cross-image evidence alignment: rubric score from the LLM judge, 0–100"),
    ("T4", "T4", "T4 examination suggestion: rubric score from the LLM judge, 0–100"),
    (
        Column.MEAN,
        "Mean across tracks*",
        COMPUTED_HERE["mean"] + " Rows without it sort below complete ones.",
    ),
]


def overview_context(board: Board, table: TableView, params: OverviewParams) -> dict[str, Any]:
    context = common_context(board, params, "/", "/api/v1/leaderboard", "Overview")
    rank_by = params.rank_by
    if rank_by == RANK_BY_MEAN:
        rank_note = (
            " The overview ranks by the mean across tracks; its interval is the mean of the four "
            "tracks' lower and upper bounds (wider than the mean's own interval, so never "
            "overconfident)."
        )
    else:
        rank_note = f" The overview ranks by {ranked_by(rank_by)} and its 95% interval."
    context.update(
        table_context(board, "/", params, table, overview_columns(rank_by)),
        presets=preset_links(params),
        mean_note=COMPUTED_HERE["mean"],
        rank_by=rank_by,
        ranked_by=ranked_by(rank_by),
        rank_by_links=[
            (option, link("/", params, rank_by=option, page=1), option == rank_by)
            for option in RANK_BY_OPTIONS
        ],
        rank_note=RANK_RANGE_NOTE + rank_note,
    )
    return context


def preset_links(params: OverviewParams) -> list[dict[str, Any]]:
    """The paper's Table 2 and 3 as one-click views: the paper's rows, or with judged ones."""
    current = set(params.query_items())
    return [
        {
            "preset": preset,
            "url": "/?" + urlencode(preset.params, safe=","),
            "with_judged_url": "/?" + urlencode(preset.with_judged(), safe=","),
            "current": current == set(preset.params),
        }
        for preset in PRESETS
    ]


def track_column_heads(board: Board, track: Track) -> list[tuple[str, str, str]]:
    pair = board.pairs.get(track)
    columns: list[tuple[str, str, str]] = [
        (
            Column.RANK,
            "#",
            f"Rank by the {track} score among the rows shown; ties go to the earlier submission. "
            "Below it, the range of ranks compatible with the intervals.",
        ),
        MODEL_HEAD,
        *MODEL_HEADS,
        (
            Column.SCORE,
            "Score",
            f"{track} {track.label.lower()}: rubric score from the LLM judge, 0–100, with its 95% "
            "bootstrap interval for judged entries",
        ),
    ]
    if track == Track.T1:
        columns.append(
            (Column.F1, "F1", "SQuAD token F1 against the gold answer and its aliases, 0–100")
        )
    for dimension in pair.dimensions if pair else ():
        columns.append(
            (
                dimension_column(dimension.id),
                dimension.name,
                f"Rubric dimension “{dimension.name}” ({dimension.id}): mean rating over the "
                "rated items as a share of its maximum, 0–100",
            )
        )
    columns.append((Column.ITEMS, "Items", "Gold items of the track the run was scored on"))
    columns.append((Column.COVERAGE, "Coverage", "Items with a prediction / gold items"))
    return columns


def track_context(
    board: Board, track: Track, table: TableView, params: TableParams
) -> dict[str, Any]:
    path = f"/tracks/{track.value}"
    context = common_context(
        board, params, path, f"/api/v1/tracks/{track.value}", f"{track} {track.label}", track
    )
    pair = board.pairs.get(track)
    context.update(
        table_context(board, path, params, table, track_column_heads(board, track)),
        track=track,
        pair=pair,
        rank_note=RANK_RANGE_NOTE,
        attempts_note=ATTEMPTS_NOTE,
        track_links=[(t, link(f"/tracks/{t.value}", params, sort=None, dir=None)) for t in Track],
    )
    return context


def render(template: str, context: dict[str, Any]) -> Body:
    return Body.of(templates.get_template(template).render(context), HTML)


def overview_html(board: Board, table: TableView, params: OverviewParams) -> Body:
    return render("leaderboard/overview.html", overview_context(board, table, params))


@router.get("/", response_class=HTMLResponse)
async def overview(views: BoardViewsDep, params: OverviewParamsDep) -> Response:
    return await views.answer("page", OVERVIEW, params, html=overview_html)


@router.get("/tracks/{track}", response_class=HTMLResponse)
async def track_page(
    views: BoardViewsDep,
    track: str,
    params: TableParamsDep,
) -> Response:
    which = parse_track(track)

    def html(board: Board, table: TableView, params: TableParams) -> Body:
        return render("leaderboard/track.html", track_context(board, which, table, params))

    return await views.answer("page", track_view(which), params, html=html)
