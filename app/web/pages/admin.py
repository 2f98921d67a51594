"""HTML pages for maintainers: tracks and rubric versions, rejudges (start, follow, cancel,
resume, diff), prompt-injection flags, judge reliability and the audit log.

A browser signs in once with an admin token (`/admin/login`); the HttpOnly, SameSite=Strict
cookie it gets holds a signed, expiring session bound to that token, never the token itself
(`app/web/admin_session.py`), and is `Secure` with COOKIE_SECURE. Pages read with that cookie (or
a bearer header); forms that change something also carry a CSRF token derived from the session,
so another site cannot post them.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Keys
from app.db.models import FlagDecision
from app.errors import DomainError, InvalidInput
from app.services import rejudge as rejudges
from app.services.accounts import Principal
from app.services.audit import recent_events
from app.services.configuration import active_judges
from app.services.judge_health import judge_health
from app.services.reliability import reliability_report
from app.services.rubrics import list_rubrics
from app.services.screening import DecisionFilter, decide, flagged_submissions
from app.tracks import Track
from app.unit_of_work import UnitOfWork
from app.web.admin_session import LIFETIME_SECONDS
from app.web.auth import (
    ADMIN_COOKIE,
    AdminForm,
    AdminReader,
    Bearer,
    admin_from_token,
    admin_reader,
    session_cookie,
)
from app.web.csrf import admin_form_token
from app.web.deps import (
    KeysDep,
    RowId,
    RuntimeDep,
    SessionDep,
    SettingsDep,
    UnitOfWorkDep,
    cookies_secure,
)
from app.web.templating import templates

router = APIRouter(include_in_schema=False)


def _context(request: Request, keys: Keys, principal: Principal, **values: Any) -> dict[str, Any]:
    token = request.cookies.get(ADMIN_COOKIE)
    return {
        "principal": principal,
        "csrf": admin_form_token(keys.form_key, token) if token else "",
        "tracks": list(Track),
        **values,
    }


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


@dataclass(frozen=True)
class AdminPage:
    """A maintainer's page request: the request, its session, the keys and the signed-in admin.
    `render` fills a template with what every admin page shows and the page's own values."""

    request: Request
    session: AsyncSession
    keys: Keys
    admin: Principal

    def render(self, name: str, **values: Any) -> HTMLResponse:
        return _page(self.request, name, _context(self.request, self.keys, self.admin, **values))


async def get_admin_page(
    request: Request, session: SessionDep, keys: KeysDep, admin: AdminReader
) -> AdminPage:
    return AdminPage(request, session, keys, admin)


AdminPageDep = Annotated[AdminPage, Depends(get_admin_page)]


# --- signing in ----------------------------------------------------------------------------


@router.get("/admin/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _page(request, "admin/login.html", {"error": None})


@router.post("/admin/login", response_model=None)
async def login(request: Request, keys: KeysDep, token: Annotated[str, Form()] = "") -> Response:
    try:
        admin = await admin_from_token(request, token.strip())
    except DomainError as exc:
        return _page(request, "admin/login.html", {"error": exc.message}, status=401)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        ADMIN_COOKIE,
        session_cookie(keys, admin, token.strip()),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="strict",
        secure=cookies_secure(request),
    )
    return response


@router.post("/admin/logout")
async def logout(_: AdminForm) -> RedirectResponse:
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(ADMIN_COOKIE)
    return response


# --- overview and rejudges -----------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse, response_model=None)
async def overview(
    request: Request, session: SessionDep, keys: KeysDep, bearer: Bearer, runtime: RuntimeDep
) -> Response:
    if bearer is None and not request.cookies.get(ADMIN_COOKIE):
        return RedirectResponse("/admin/login", status_code=303)
    principal = await admin_reader(request, keys, bearer)
    rubrics = await list_rubrics(session)
    active = {info.track: info for info in rubrics if info.active}
    context = _context(
        request,
        keys,
        principal,
        rubrics=rubrics,
        active=active,
        judges=await active_judges(session),
        rejudges=await rejudges.list_rejudges(session, 20),
        judge=await judge_health(runtime),
    )
    return _page(request, "admin/index.html", context)


def _rejudge_started(uow: UnitOfWork, started: rejudges.Started) -> RedirectResponse:
    """After a start or a resume: its runs are enqueued once the request commits, and the browser
    goes on to the rejudge's page."""
    uow.enqueue_runs(started.jobs)
    return RedirectResponse(f"/admin/rejudges/{started.rejudge.id}", status_code=303)


def _ids(text: str) -> tuple[int, ...]:
    parts = text.replace(",", " ").split()
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise InvalidInput("submission ids must be whole numbers separated by spaces") from None


@router.post("/admin/rejudges")
async def start(
    session: SessionDep,
    settings: SettingsDep,
    uow: UnitOfWorkDep,
    admin: AdminForm,
    track: Annotated[str, Form()],
    rubric: Annotated[str, Form()] = "",
    judge_model: Annotated[str, Form()] = "",
    submission_ids: Annotated[str, Form()] = "",
    max_error_share: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        share = float(max_error_share) if max_error_share.strip() else None
        chosen = Track(track.strip().upper())
    except ValueError:
        raise InvalidInput(
            "pick a track, and give the error share as a number, e.g. 0.02"
        ) from None
    request = rejudges.RejudgeRequest(
        track=chosen,
        rubric=rubric.strip() or None,
        judge_model=judge_model.strip() or None,
        submission_ids=_ids(submission_ids),
        max_error_share=share,
    )
    started = await rejudges.start_rejudge(session, settings, request, actor=admin.label)
    return _rejudge_started(uow, started)


@router.get("/admin/rejudges/{rejudge_id}", response_class=HTMLResponse)
async def rejudge_page(rejudge_id: RowId, page: AdminPageDep) -> HTMLResponse:
    view = await rejudges.rejudge_view(page.session, rejudge_id)
    diff = await rejudges.rejudge_diff(page.session, rejudge_id) if view.finished else None
    return page.render("admin/rejudge.html", view=view, diff=diff)


@router.post("/admin/rejudges/{rejudge_id}/cancel")
async def cancel(rejudge_id: RowId, session: SessionDep, admin: AdminForm) -> RedirectResponse:
    await rejudges.cancel_rejudge(session, rejudge_id, actor=admin.label)
    return RedirectResponse(f"/admin/rejudges/{rejudge_id}", status_code=303)


@router.post("/admin/rejudges/{rejudge_id}/resume")
async def resume(
    rejudge_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    uow: UnitOfWorkDep,
    admin: AdminForm,
) -> RedirectResponse:
    started = await rejudges.resume_rejudge(session, settings, rejudge_id, actor=admin.label)
    return _rejudge_started(uow, started)


@router.get("/admin/rejudges/{rejudge_id}/diff", response_class=HTMLResponse)
async def diff_page(rejudge_id: RowId, page: AdminPageDep) -> HTMLResponse:
    view = await rejudges.rejudge_view(page.session, rejudge_id)
    diff = await rejudges.rejudge_diff(page.session, rejudge_id)
    movers = [diff.entry(sid) for sid in diff.largest_movers]
    return page.render("admin/diff.html", view=view, diff=diff, movers=movers)


# --- prompt-injection flags -----------------------------------------------------------------

FLAG_VIEWS = ("pending", "cleared", "upheld", "all")


@router.get("/admin/flags", response_class=HTMLResponse)
async def flags_page(page: AdminPageDep, show: DecisionFilter = "pending") -> HTMLResponse:
    entries = await flagged_submissions(page.session, show)
    return page.render("admin/flags.html", entries=entries, show=show, views=FLAG_VIEWS)


@router.post("/admin/flags/{submission_id}")
async def flag_decision(
    submission_id: RowId,
    session: SessionDep,
    admin: AdminForm,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        chosen = FlagDecision(decision.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"decision {decision!r} is not one of: cleared, upheld; pick one of the buttons"
        ) from None
    await decide(session, submission_id, chosen, actor=admin.label, note=note)
    return RedirectResponse("/admin/flags", status_code=303)


# --- reliability and audit -----------------------------------------------------------------


@router.get("/admin/reliability", response_class=HTMLResponse)
async def reliability_page(page: AdminPageDep, track: str | None = None) -> HTMLResponse:
    chosen = None
    if track:
        try:
            chosen = Track(track.strip().upper())
        except ValueError:
            raise InvalidInput(f"{track!r} is not a track") from None
    reports = await reliability_report(page.session, chosen)
    return page.render("admin/reliability.html", reports=reports, chosen=chosen)


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_page(page: AdminPageDep) -> HTMLResponse:
    return page.render("admin/audit.html", events=await recent_events(page.session, 500))
