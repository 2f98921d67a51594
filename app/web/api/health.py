"""Probes: `/healthz` says the process answers (no I/O); `/readyz` says it can serve (the
database, its migrations, Redis when configured), 503 naming each failing check otherwise."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.services.health import readiness
from app.web.deps import RuntimeDep

router = APIRouter(tags=["health"])

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz", summary="The process answers (liveness)")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get(
    "/readyz",
    summary="The process can serve: database reachable, migrations at head, Redis reachable",
    responses={503: {"description": "A check failed; `failing` names it"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    result = await readiness(runtime)
    body: dict[str, Any] = {
        "status": "ready" if result.ready else "not ready",
        "checks": result.checks,
        "failing": result.failing,
    }
    return JSONResponse(body, status_code=200 if result.ready else 503, headers=NO_STORE)
