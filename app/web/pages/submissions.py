"""HTML pages for model developers: the upload form and a submission's status page."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, QuotaExceeded, Unauthorized
from app.runs import ACTIVE
from app.services.accounts import Principal
from app.services.quota import Quota, team_quota
from app.services.status import SubmissionView, submission_view, view_of, waiting_note
from app.services.submissions import SubmitOutcome
from app.tracks import Track
from app.web import csrf
from app.web.auth import OptionalPrincipal, authenticated
from app.web.deps import KeysDep, RowId, SessionDep, SettingsDep, StoreDep, UnitOfWorkDep
from app.web.errors import status_for
from app.web.templating import templates
from app.web.uploads import read_upload_form, submission_request, submit_upload

router = APIRouter(include_in_schema=False)

TOKEN_FIELD = "token"
REFRESH_SECONDS = 3


def duration(seconds: float | None) -> str | None:
    """'about 3 min' for an ETA; None when there is no estimate."""
    if seconds is None:
        return None
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {seconds / 3600:.1f} h"


def status_context(view: SubmissionView, key: str | None) -> dict[str, Any]:
    run = view.run
    active = run is not None and run.status in ACTIVE
    return {
        "view": view,
        "percent": view.progress_percent,
        "eta": duration(view.eta_seconds),
        "waiting": waiting_note(run) if run is not None else None,
        "refresh_seconds": REFRESH_SECONDS if active else None,
        "key": key,
    }


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
async def submission_page(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
    submission_id: RowId,
    key: str | None = None,
) -> HTMLResponse:
    view = await submission_view(
        session, submission_id, principal, key=key, secret=keys.view_link_key
    )
    return templates.TemplateResponse(request, "submissions/status.html", status_context(view, key))


def form_context(
    settings_limit: int,
    csrf_token: str,
    *,
    quota: Quota | None = None,
    results: list[tuple[SubmissionView, bool]] | None = None,
    outcome: SubmitOutcome | None = None,
    error: DomainError | None = None,
) -> dict[str, Any]:
    return {
        "csrf_field": csrf.FIELD_NAME,
        "csrf_token": csrf_token,
        "token_field": TOKEN_FIELD,
        "tracks": list(Track),
        "limit": settings_limit,
        "quota": quota,
        "results": results or [],
        "rejected": bool(outcome and outcome.rejected),
        "error_report": outcome.error_report if outcome else [],
        "error": error,
    }


def _render_form(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, "submissions/submit.html", context, status_code=status_code
    )
    csrf.set_cookie(response, request, context["csrf_token"])
    return response


@router.get("/submit", response_class=HTMLResponse)
async def submit_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
) -> HTMLResponse:
    """The upload form. With a token (Authorization header), it shows the team's quota."""
    quota = None
    if principal is not None:
        quota = await team_quota(session, principal, settings.submissions_per_day)
    token = csrf.token_for(request, keys.form_key)
    return _render_form(request, form_context(settings.submissions_per_day, token, quota=quota))


@router.post("/submit", response_class=HTMLResponse)
async def submit_form(
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    keys: KeysDep,
    store: StoreDep,
) -> HTMLResponse:
    """The form's upload: CSRF-checked, then authenticated by the token field. Every answer,
    errors included, is returned rather than raised, so a rejected file stays recorded."""
    session = uow.session
    csrf_token = csrf.require_cookie(request, keys.form_key)  # before a byte of the body is read
    form = await read_upload_form(request, max_file_bytes=settings.max_upload_bytes)
    csrf.verify(request, keys.form_key, form.fields.pop(csrf.FIELD_NAME, None))
    token = form.fields.pop(TOKEN_FIELD, "").strip()
    if not token:
        raise Unauthorized(
            "enter your team's API token in the form (create one with "
            "`mmrare token create --team NAME`)"
        )
    principal = await authenticated(request, token)
    limit = settings.submissions_per_day
    try:
        outcome = await submit_upload(uow, store, settings, submission_request(form, principal))
    except DomainError as exc:
        await uow.discard()  # the refused upload leaves nothing behind
        quota = await team_quota(session, principal, limit)
        response = _render_form(
            request,
            form_context(limit, csrf_token, quota=quota, error=exc),
            status_code=status_for(exc),
        )
        if isinstance(exc, QuotaExceeded):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    results = await _results(session, outcome, principal, keys.view_link_key)
    quota = await team_quota(session, principal, limit)
    code = 422 if outcome.rejected else (201 if outcome.created else 200)
    context = form_context(limit, csrf_token, quota=quota, results=results, outcome=outcome)
    return _render_form(request, context, status_code=code)


async def _results(
    session: AsyncSession, outcome: SubmitOutcome, principal: Principal, secret: bytes
) -> list[tuple[SubmissionView, bool]]:
    return [
        (await view_of(session, item.submission, principal, secret=secret), item.duplicate)
        for item in outcome.items
    ]
