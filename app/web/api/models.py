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
from app.web.api.schemas.models import ModelCreate, ModelInfo, ModelUpdate
from app.web.auth import CurrentPrincipal
from app.web.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["models"])


def model_payload(view: ModelView) -> ModelInfo:
    model = view.model
    return ModelInfo(
        name=model.name,
        team=view.team,
        organisation=model.organisation,
        open_weights=model.open_weights,
        medical=model.medical,
        category=model.category,
        parameter_count=model.parameter_count,
        url=model.url,
        paper_url=model.paper_url,
        description=model.description,
        created_at=model.created_at,
    )


@router.post(
    "/models",
    response_model=ModelInfo,
    status_code=201,
    responses={409: {"description": "A model with this name (ignoring case) exists"}},
)
async def create_model(
    session: SessionDep, principal: CurrentPrincipal, body: ModelCreate
) -> ModelInfo:
    """Register a model for the calling team; only that team can then submit under it."""
    fields = ModelFields(
        organisation=body.organisation,
        open_weights=body.open_weights,
        medical=body.medical,
        category=ModelCategory(body.category),
        parameter_count=body.parameter_count,
        url=body.url,
        paper_url=body.paper_url,
        description=body.description,
    )
    model = await register_model(session, principal, body.name, fields)
    return model_payload(await model_view(session, model))


@router.patch(
    "/models/{name:path}",
    response_model=ModelInfo,
    responses={403: {"description": "Another team's model"}},
)
async def patch_model(
    session: SessionDep, principal: CurrentPrincipal, name: str, body: ModelUpdate
) -> ModelInfo:
    """Change some of a model's metadata (the fields sent); its team only."""
    model = await update_model(session, principal, name, body.model_dump(exclude_unset=True))
    return model_payload(await model_view(session, model))


@router.get("/models/{name:path}", response_model=ModelInfo)
async def read_model(session: SessionDep, name: str) -> ModelInfo:
    return model_payload(await model_view(session, await get_model(session, name)))
