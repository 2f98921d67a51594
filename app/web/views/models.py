"""A model's page: its JSON payload and CSV tables."""

from collections.abc import Callable
from dataclasses import asdict

from fastapi.responses import RedirectResponse, Response

from app.db.base import utcnow
from app.errors import InvalidInput, NotFound
from app.leaderboard.board import Board, EntryKind
from app.services.model_page import ModelView, canonical_model_name, model_view
from app.web.api.provenance import provenance_url
from app.web.api.schemas import views as schemas
from app.web.csv_export import to_csv
from app.web.http_cache import Body
from app.web.views.common import (
    BoardView,
    BoardViews,
    pair_payload,
    quote_name,
    tables_body,
    track_entry,
)


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
            schemas.SubmissionHistoryEntry.model_validate(
                {
                    **asdict(h),
                    "shown": h.submission_id in shown,
                    "provenance_url": provenance_url(h.run_id) if h.run_id is not None else None,
                }
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


def model_body(view: ModelView, params: schemas.ViewParams) -> Body:
    """A model's page as JSON, or one of its tables as CSV with `format=csv`."""
    return tables_body(model_payload(view), params, model_csv, "scores", "model")


def model_board_view(name: str) -> BoardView[schemas.ViewParams, ModelView]:
    """The model `name` as the board shows it: as JSON, or one of its tables as CSV."""

    async def load(views: BoardViews, board: Board, params: schemas.ViewParams) -> ModelView:
        return await model_view(views.session, board, name)

    return BoardView(f"model:{name}", load, lambda board, view, params: model_body(view, params))


async def answer_model(
    views: BoardViews,
    surface: str,
    name: str,
    params: schemas.ViewParams,
    base: str,
    html: Callable[[Board, ModelView, schemas.ViewParams], Body] | None = None,
) -> Response:
    """A model's page or JSON at `base` + its name. A name that differs from a stored one only by
    case is redirected (308, the query kept) to the stored spelling."""
    try:
        return await views.answer(surface, model_board_view(name), params, html=html)
    except NotFound:
        canonical = await canonical_model_name(views.session, name)
        if canonical is None:
            raise
    query = views.request.url.query
    location = base + quote_name(canonical) + ("?" + query if query else "")
    return RedirectResponse(location, status_code=308)
