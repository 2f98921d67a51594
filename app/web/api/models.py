"""JSON API: a team's models (registration and metadata)."""

from fastapi import APIRouter

from app.db.models import ModelCategory
from app.services.model_registry import (
    ModelFields,
    ModelView,
    get_model,
    model_view,
    register_model,
    update_model,
)
from app.web.api.schemas.errors import TEAM_WRITE, error_responses
from app.web.api.schemas.models import ModelCreate, ModelInfo, ModelUpdate
from app.web.auth import CurrentPrincipal
from app.web.deps import ModelName, SessionDep

router = APIRouter(prefix="/api/v1", tags=["models"], responses=TEAM_WRITE)


def model_payload(view: ModelView) -> ModelInfo:
    return ModelInfo.model_validate(view.model).model_copy(update={"team": view.team})


@router.post(
    "/models",
    response_model=ModelInfo,
    status_code=201,
    responses=error_responses(notes={409: "A model with this name (ignoring case) exists"}),
)
async def create_model(
    session: SessionDep, principal: CurrentPrincipal, body: ModelCreate
) -> ModelInfo:
    """Register a model for the calling team; only that team can then submit under it."""
    written = body.model_dump(exclude={"name"})
    fields = ModelFields(**{**written, "category": ModelCategory(body.category)})
    model = await register_model(session, principal, body.name, fields)
    return model_payload(await model_view(session, model))


@router.patch(
    "/models/{name:path}",
    response_model=ModelInfo,
    responses=error_responses(notes={403: "Another team's model"}),
)
async def patch_model(
    session: SessionDep, principal: CurrentPrincipal, name: ModelName, body: ModelUpdate
) -> ModelInfo:
    """Change some of a model's metadata (the fields sent); its team only."""
    model = await update_model(session, principal, name, body.model_dump(exclude_unset=True))
    return model_payload(await model_view(session, model))


@router.get("/models/{name:path}", response_model=ModelInfo)
async def read_model(session: SessionDep, name: ModelName) -> ModelInfo:
    return model_payload(await model_view(session, await get_model(session, name)))
