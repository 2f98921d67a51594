"""The leaderboards as JSON and CSV: the overview, each track, each model.

Every route reads a cached board (rebuilt only when the change stamp moves), builds its view,
and renders it once per (parameters, stamp); repeated requests are a stamp query and a dict
lookup, and a client holding the ETag gets a 304. The views themselves are in `app.web.views`,
shared with the HTML pages.
"""

from fastapi import APIRouter
from fastapi.responses import Response

from app.web.api.schemas import views as schemas
from app.web.api.schemas.errors import PUBLIC_READ, error_responses
from app.web.deps import ModelName
from app.web.views.common import (
    CSV_RESPONSES,
    BoardViewsDep,
    OverviewParamsDep,
    ParamsDep,
    TableParamsDep,
    parse_track,
)
from app.web.views.leaderboard import OVERVIEW, track_view
from app.web.views.models import answer_model

router = APIRouter(prefix="/api/v1", tags=["leaderboard"], responses=PUBLIC_READ)


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
    return await views.answer("api", OVERVIEW, params)


@router.get(
    "/tracks/{track}",
    response_model=schemas.TrackBoard,
    responses=CSV_RESPONSES,
    summary="One track: score, interval, per-dimension means, items and coverage",
)
async def get_track(
    views: BoardViewsDep,
    track: str,
    params: TableParamsDep,
) -> Response:
    return await views.answer("api", track_view(parse_track(track)), params)


@router.get(
    "/leaderboard/models/{name:path}",
    response_model=schemas.ModelPage,
    responses={
        **CSV_RESPONSES,
        308: {"description": "The name differs from a model's only by case: its URL"},
        **error_responses(409, notes={409: "The name matches two models differing by case"}),
    },
    summary="A model: metadata, scores with intervals, dimensions, published submissions",
    description="The name is matched exactly; a name that differs from a model's only by case "
    "redirects (308) to it, and one matching two such models is a 409 naming both.",
)
async def get_model(
    views: BoardViewsDep,
    name: ModelName,
    params: ParamsDep,
) -> Response:
    return await answer_model(views, "api", name, params, "/api/v1/leaderboard/models/")
