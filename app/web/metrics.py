"""`GET /metrics`: Prometheus exposition of this deployment (app.observability.metrics)."""

from fastapi import APIRouter, Response

from app.observability.metrics import CONTENT_TYPE, render
from app.services.metrics import state_snapshot
from app.web.deps import RuntimeDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def get_metrics(runtime: RuntimeDep) -> Response:
    return Response(render(await state_snapshot(runtime)), media_type=CONTENT_TYPE)
