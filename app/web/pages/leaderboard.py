"""HTML leaderboard pages."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.services.leaderboard import build_leaderboard
from app.tracks import Track
from app.web.deps import SessionDep
from app.web.templating import templates

router = APIRouter(include_in_schema=False)


def overview_context(rows: list[Any]) -> dict[str, Any]:
    judges = sorted(
        {
            (cell.judge_model, cell.judge_is_reference)
            for row in rows
            for cell in row.cells.values()
            if cell.judge_model
        }
    )
    return {"rows": rows, "tracks": list(Track), "judges": judges}


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep) -> HTMLResponse:
    rows = await build_leaderboard(session)
    return templates.TemplateResponse(request, "leaderboard/overview.html", overview_context(rows))
