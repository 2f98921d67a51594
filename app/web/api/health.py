"""Probes: `/healthz` says the process answers (no I/O); `/readyz` says it can serve (the
database, its migrations, Redis when configured), 503 naming each failing check otherwise."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.services.health import readiness
from app.web.deps import RuntimeDep

router = APIRouter(tags=["health"])

NO_STORE = {"Cache-Control": "no-store"}


class Readiness(BaseModel):
    """The probe's report, the same shape whether ready (200) or not (503): a not-ready answer is
    a report for an orchestrator, not an error in a request."""

    status: str = Field(description="`ready` or `not ready`")
    checks: dict[str, str] = Field(description="each check: `ok`, or what is wrong")
    failing: list[str] = Field(description="the checks that are not `ok`")


@router.get("/healthz", summary="The process answers (liveness)")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get(
    "/readyz",
    summary="The process can serve: database reachable, migrations at head, Redis reachable",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A check failed; `failing` names it"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    result = await readiness(runtime)
    body: dict[str, Any] = {
        "status": "ready" if result.ready else "not ready",
        "checks": result.checks,
        "failing": result.failing,
    }
    return JSONResponse(body, status_code=200 if result.ready else 503, headers=NO_STORE)
