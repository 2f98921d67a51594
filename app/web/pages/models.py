"""HTML: a model's page — metadata, scores with intervals, dimensions, published submissions."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from app.leaderboard.board import Board, badges_of
from app.services.model_page import ModelView
from app.tracks import Track
from app.web.api.schemas.views import ViewParams
from app.web.deps import ModelName
from app.web.http_cache import Body
from app.web.pages.leaderboard import ATTEMPTS_NOTE, link, render
from app.web.views.common import BoardViewsDep, ParamsDep, quote_name
from app.web.views.models import answer_model

router = APIRouter(include_in_schema=False)


def model_context(board: Board, view: ModelView, params: ViewParams) -> dict[str, Any]:
    name = view.info.name
    api_path = f"/api/v1/leaderboard/models/{quote_name(name)}"
    shown = {
        cell.submission_id
        for cell in (view.judged.cells.values() if view.judged else [])
        if cell.submission_id is not None
    }
    return {
        "title": name,
        "view": view,
        "info": view.info,
        "badges": badges_of(view.info),
        "board": board,
        "params": params,
        "pairs": list(board.pairs.values()),
        "tracks": list(Track),
        "track_urls": {t: link(f"/tracks/{t.value}", params) for t in Track},
        "judged": view.judged,
        "reported": view.reported,
        "history": view.history,
        "shown": shown,
        "attempts_note": ATTEMPTS_NOTE,
        "reference": board.by_reference_judge(view.judged) if view.judged else False,
        "csv_url": link(api_path, params, format="csv", table="scores"),
        "dimensions_csv_url": link(api_path, params, format="csv", table="dimensions"),
        "history_csv_url": link(api_path, params, format="csv", table="history"),
        "json_url": link(api_path, params),
    }


def model_html(board: Board, view: ModelView, params: ViewParams) -> Body:
    return render("models/model.html", model_context(board, view, params))


@router.get("/models/{name:path}", response_class=HTMLResponse)
async def model_page(
    views: BoardViewsDep,
    name: ModelName,
    params: ParamsDep,
) -> Response:
    return await answer_model(views, "page", name, params, "/models/", html=model_html)
