"""HTML pages for model developers: the upload form and a submission's status page."""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import tokens_match
from app.db.models import SubmissionState
from app.errors import DomainError, NotFound, QuotaExceeded, Unauthorized
from app.runs import ACTIVE, RunStatus
from app.services.accounts import Principal
from app.services.quota import Quota, team_quota
from app.services.status import SubmissionView, submission_view, view_key, view_of, waiting_note
from app.services.submissions import SubmitOutcome
from app.submission_verbs import DONE
from app.tracks import Track
from app.web import csrf
from app.web.auth import OptionalPrincipal, authenticated
from app.web.deps import KeysDep, RowId, SessionDep, SettingsDep, StoreDep, UnitOfWorkDep
from app.web.errors import status_for
from app.web.templating import templates
from app.web.uploads import read_upload_form, submission_request, submit_upload
from app.web.views.submission_actions import ACTIONS_BY_VERB, ActionRequest, SubmissionAction

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


@dataclass(frozen=True)
class SmallForm:
    csrf_token: str
    fields: dict[str, str]
    principal: Principal


async def small_form(request: Request, form_key: bytes, purpose: str) -> SmallForm:
    """A url-encoded form of the pages (an action, the quota check): the CSRF cookie checked
    before the body is read, then its field, then the token field authenticated."""
    csrf_token = csrf.require_cookie(request, form_key)
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    csrf.verify(request, form_key, fields.get(csrf.FIELD_NAME))
    token = fields.get(TOKEN_FIELD, "").strip()
    if not token:
        raise Unauthorized(f"enter your team's API token {purpose}")
    return SmallForm(csrf_token, fields, await authenticated(request, token))


def available_actions(view: SubmissionView) -> list[SubmissionAction]:
    """The owner's actions that apply now: publish or unpublish an accepted submission, cancel
    a queued or judging one, re-queue a failed or cancelled one."""
    run = view.run
    if view.submission.state == SubmissionState.REJECTED or run is None:
        return []
    actions = ["unpublish" if view.submission.published else "publish"]
    if run.status in ACTIVE:
        actions.append("cancel")
    elif run.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        actions.append("requeue")
    return [ACTIONS_BY_VERB[verb] for verb in actions]


def status_context(
    view: SubmissionView, key: str | None, *, team_view: bool = False, done: str | None = None
) -> dict[str, Any]:
    run = view.run
    active = run is not None and run.status in ACTIVE
    return {
        "view": view,
        "percent": view.progress_percent,
        "eta": duration(view.eta_seconds),
        "waiting": waiting_note(run) if run is not None else None,
        "refresh_seconds": REFRESH_SECONDS if active else None,
        "key": key,
        "actions": available_actions(view) if view.owner_view or team_view else [],
        "done": DONE.get(done or ""),
    }


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
async def submission_page(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
    submission_id: RowId,
    key: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    view = await submission_view(
        session, submission_id, principal, key=key, secret=keys.view_link_key
    )
    team_view = bool(key) and tokens_match(key or "", view_key(keys.view_link_key, submission_id))
    context = status_context(view, key, team_view=team_view, done=done)
    return templates.TemplateResponse(request, "submissions/status.html", context)


def _action_of(verb: str) -> SubmissionAction:
    action = ACTIONS_BY_VERB.get(verb)
    if action is None:
        raise NotFound(f"no action {verb!r}; the actions are {', '.join(ACTIONS_BY_VERB)}")
    return action


def _form_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    cookie_path: str = csrf.COOKIE_PATH,
) -> HTMLResponse:
    """A page with a form, and the CSRF cookie (`context["csrf_token"]`) that its form posts back
    to `cookie_path`."""
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    csrf.set_cookie(response, request, context["csrf_token"], path=cookie_path)
    return response


def _render_action(
    request: Request,
    view: SubmissionView,
    action: SubmissionAction,
    csrf_token: str,
    *,
    key: str | None,
    error: DomainError | None = None,
) -> HTMLResponse:
    context = {
        "view": view,
        "action": action,
        "key": key,
        "csrf_field": csrf.FIELD_NAME,
        "csrf_token": csrf_token,
        "token_field": TOKEN_FIELD,
        "error": error,
    }
    return _form_page(
        request,
        "submissions/action.html",
        context,
        status_code=status_for(error) if error else 200,
        cookie_path=csrf.SUBMISSIONS_PATH,
    )


@router.get("/submissions/{submission_id}/action", response_class=HTMLResponse)
async def action_page(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
    submission_id: RowId,
    do: str,
    key: str | None = None,
) -> HTMLResponse:
    """The confirmation of one action: what it does, the same as a command, and a form that
    takes the team's token (a view link shows the page but is not enough to act)."""
    action = _action_of(do)
    view = await submission_view(
        session, submission_id, principal, key=key, secret=keys.view_link_key
    )
    token = csrf.token_for(request, keys.form_key)
    return _render_action(request, view, action, token, key=key)


@router.post("/submissions/{submission_id}/action", response_model=None)
async def act(
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    keys: KeysDep,
    submission_id: RowId,
) -> Response:
    """The action form: CSRF-checked, authenticated by its token field, then the API's action;
    back to the status page, which says what changed."""
    form = await small_form(request, keys.form_key, "to act on this submission")
    action = _action_of(form.fields.get("do", ""))
    key = form.fields.get("key") or None
    csrf_token, principal = form.csrf_token, form.principal
    try:
        await action.apply(ActionRequest(settings, uow, principal, submission_id))
    except DomainError as exc:
        await uow.discard()
        view = await submission_view(
            uow.session, submission_id, principal, key=key, secret=keys.view_link_key
        )
        return _render_action(request, view, action, csrf_token, key=key, error=exc)
    link_key = view_key(keys.view_link_key, submission_id)
    return RedirectResponse(
        f"/submissions/{submission_id}?key={link_key}&done={action.verb}", status_code=303
    )


def form_context(
    settings_limit: int,
    csrf_token: str,
    *,
    quota: Quota | None = None,
    results: list[tuple[SubmissionView, bool]] | None = None,
    outcome: SubmitOutcome | None = None,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`values`: the fields as sent, so a form answered with an error comes back filled in
    (never the token)."""
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
        "values": values or {},
    }


def _render_form(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return _form_page(request, "submissions/submit.html", context, status_code=status_code)


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
            form_context(limit, csrf_token, quota=quota, error=exc, values=form.fields),
            status_code=status_for(exc),
        )
        if isinstance(exc, QuotaExceeded):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    results = await _results(session, outcome, principal, keys.view_link_key)
    quota = await team_quota(session, principal, limit)
    code = 422 if outcome.rejected else (201 if outcome.created else 200)
    kept = form.fields if outcome.rejected else None  # fix the file, keep the rest
    context = form_context(
        limit, csrf_token, quota=quota, results=results, outcome=outcome, values=kept
    )
    return _render_form(request, context, status_code=code)


@router.post("/submit/quota", response_class=HTMLResponse)
async def quota_form(
    request: Request, session: SessionDep, settings: SettingsDep, keys: KeysDep
) -> HTMLResponse:
    """The team's quota, for the token typed into the small form beside the upload form: a POST
    (the token never goes in a URL), CSRF-checked like the upload."""
    form = await small_form(request, keys.form_key, "to see its quota")
    quota = await team_quota(session, form.principal, settings.submissions_per_day)
    context = form_context(settings.submissions_per_day, form.csrf_token, quota=quota)
    return _render_form(request, context)


async def _results(
    session: AsyncSession, outcome: SubmitOutcome, principal: Principal, secret: bytes
) -> list[tuple[SubmissionView, bool]]:
    return [
        (await view_of(session, item.submission, principal, secret=secret), item.duplicate)
        for item in outcome.items
    ]
