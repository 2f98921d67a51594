"""HTML pages for model developers: a submission's status."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.services.status import submission_view
from app.web.deps import SessionDep
from app.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
async def submission_page(
    request: Request, session: SessionDep, submission_id: int
) -> HTMLResponse:
    view = await submission_view(session, submission_id)
    return templates.TemplateResponse(request, "submissions/status.html", {"view": view})
