"""The leaderboards as JSON and CSV: the overview, each track, each model.

Every route reads a cached board (rebuilt only when the change stamp moves), builds its view,
and renders it once per (parameters, stamp); repeated requests are a stamp query and a dict
lookup, and a client holding the ETag gets a 304. The views themselves are in `app.web.views`,
shared with the HTML pages.
"""

from fastapi import APIRouter
from fastapi.responses import Response

from app.leaderboard.board import Board
from app.services import model_page
from app.web.api.schemas import views as schemas
from app.web.http_cache import Body
from app.web.views.common import (
    CSV_RESPONSES,
    BoardViewsDep,
    OverviewParamsDep,
    ParamsDep,
    parse_track,
)
from app.web.views.leaderboard import overview_body, track_body
from app.web.views.models import model_body

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])


@router.get(
    "/leaderboard",
    response_model=schemas.Leaderboard,
    responses=CSV_RESPONSES,
    summary="The overview: one row per entry, T1 Score, T1 F1, T2–T4 and their mean",
)
async def get_leaderboard(
    views: BoardViewsDep,
    params: OverviewParamsDep,
) -> Response:
    async def build(board: Board) -> Body:
        return overview_body(board, params, views.settings.leaderboard_page_size)

    return await views.respond("api:overview", params, build)


@router.get(
    "/tracks/{track}",
    response_model=schemas.TrackBoard,
    responses=CSV_RESPONSES,
    summary="One track: score, interval, per-dimension means, items and coverage",
)
async def get_track(
    views: BoardViewsDep,
    track: str,
    params: ParamsDep,
) -> Response:
    which = parse_track(track)

    async def build(board: Board) -> Body:
        return track_body(board, which, params, views.settings.leaderboard_page_size)

    return await views.respond(f"api:track:{which.value}", params, build)


@router.get(
    "/leaderboard/models/{name:path}",
    response_model=schemas.ModelPage,
    responses=CSV_RESPONSES,
    summary="A model: metadata, scores with intervals, dimensions, published submissions",
)
async def get_model(
    views: BoardViewsDep,
    name: str,
    params: ParamsDep,
) -> Response:
    async def build(board: Board) -> Body:
        return model_body(await model_page.model_view(views.session, board, name), params)

    return await views.respond(f"api:model:{name}", params, build)
