"""Upload predictions, follow their scoring, publish them; the team's upload quota."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.runs import RunStatus
from app.services.accounts import Principal
from app.services.quota import Quota, team_quota
from app.services.screening import decision_state
from app.services.status import SubmissionView, submission_view, view_of, waiting_note
from app.services.submissions import SubmitOutcome
from app.web.api.provenance import provenance_url
from app.web.api.schemas.errors import TEAM_WRITE, ErrorInfo, error_responses
from app.web.api.schemas.submissions import (
    Coverage,
    MultiTrackUpload,
    Progress,
    QuotaStatus,
    RunResult,
    ScreeningStatus,
    SubmissionStatus,
    TrackQuotaStatus,
)
from app.web.auth import CurrentPrincipal, OptionalPrincipal
from app.web.deps import KeysDep, RowId, SessionDep, SettingsDep, StoreDep, UnitOfWorkDep
from app.web.uploads import read_upload_form, submission_request, submit_upload
from app.web.views.submission_actions import SUBMISSION_ACTIONS, ActionRequest, SubmissionAction

router = APIRouter(prefix="/api/v1", tags=["submissions"], responses=TEAM_WRITE)

_UPLOAD_FORM_SCHEMA = {
    "type": "object",
    "required": ["model", "file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "JSONL or a JSON array of {id, prediction}; .gz accepted",
        },
        "track": {
            "type": "string",
            "description": "T1, T2, T3 or T4; leave out (or 'multi') when every line has "
            '"track": one submission per track present',
        },
        "model": {"type": "string", "description": "Model name as shown on the leaderboard"},
        "organisation": {"type": "string", "description": "For a new model only"},
        "open_weights": {"type": "boolean", "description": "For a new model only"},
        "medical": {"type": "boolean", "description": "For a new model only"},
        "category": {"type": "string", "enum": ["general", "medical", "medical_unified"]},
        "parameter_count": {"type": "integer"},
        "url": {"type": "string"},
        "paper_url": {"type": "string"},
        "description": {"type": "string"},
    },
}


def status_url(view: SubmissionView) -> str | None:
    path = f"/submissions/{view.submission.id}"
    if view.view_key:
        return f"{path}?key={view.view_key}"
    return path if view.submission.published else None


def status_payload(view: SubmissionView, *, duplicate: bool = False) -> SubmissionStatus:
    sub, run = view.submission, view.run
    return SubmissionStatus(
        id=sub.id,
        model=view.model.name,
        team=view.team,
        track=sub.track,
        published=sub.published,
        pinned=sub.pinned,
        status_url=status_url(view),
        filename=sub.filename,
        file_sha256=sub.file_sha256,
        state=sub.state,
        status=run.status if run else None,
        created_at=sub.created_at,
        coverage=Coverage(answered=sub.answered, total=sub.total_items),
        empty_predictions=sub.empty_predictions,
        progress=progress_payload(view),
        rubric_version=run.rubric_version if run else None,
        judge_model=view.judge.name if view.judge else None,
        judge_is_reference=view.judge.is_reference if view.judge else False,
        failure=run.error if run and run.status != RunStatus.WAITING else None,
        provenance_url=provenance_url(run.id, view.view_key)
        if run and run.status == RunStatus.SCORED
        else None,
        result=result_payload(view),
        duplicate=duplicate,
        errors=list(sub.errors),
        error_count=sub.error_count,
        flagged_items=view.screening.flagged_items if view.screening else None,
        screening=screening_payload(view),
    )


def progress_payload(view: SubmissionView) -> Progress | None:
    """The run's counters, and while it waits or runs its queue position and time left."""
    if view.run is None:
        return None
    progress = Progress.model_validate(view.run, from_attributes=True)
    progress.queue_position = view.queue_position
    progress.eta_seconds = view.eta_seconds
    progress.waiting = waiting_note(view.run)
    return progress


def result_payload(view: SubmissionView) -> RunResult | None:
    """The run's stored aggregate, once it is scored."""
    if view.aggregate is None:
        return None
    result = RunResult.model_validate(view.aggregate, from_attributes=True)
    result.judge_inconsistencies = view.run.judge_inconsistencies if view.run else 0
    return result


def screening_payload(view: SubmissionView) -> ScreeningStatus | None:
    screening = view.screening
    if screening is None:
        return None
    return ScreeningStatus.model_validate(
        {
            "ruleset_version": screening.ruleset_version,
            "decision": decision_state(screening),
            "items": screening.flags,
        }
    )


@router.post(
    "/submissions",
    response_model=SubmissionStatus | MultiTrackUpload,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": _UPLOAD_FORM_SCHEMA}},
        }
    },
    responses={
        200: {"description": "The same file was already submitted for this model and track"},
        **error_responses(
            notes={
                403: "The model belongs to another team",
                413: "File larger than MAX_UPLOAD_BYTES (compressed or not)",
                422: "Invalid form, or invalid file: a file is recorded as rejected, and the "
                "answer is its status with `error` holding the line-numbered errors",
            }
        ),
    },
)
async def create_submission(
    request: Request,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    keys: KeysDep,
    store: StoreDep,
) -> JSONResponse:
    """Upload a prediction file (multipart form: `file`, `model`, `track`, …).

    A single-track upload answers with the submission's status; a multi-track upload (no
    `track`) with `{"submissions": [...]}`, one per track in the file."""
    form = await read_upload_form(request, max_file_bytes=settings.max_upload_bytes)
    outcome = await submit_upload(uow, store, settings, submission_request(form, principal))
    body = await upload_body(uow.session, outcome, principal, keys.view_link_key)
    if outcome.rejected:
        # Returned, not raised: the rejected submission and its errors are kept.
        return JSONResponse(body, status_code=422)
    return JSONResponse(body, status_code=201 if outcome.created else 200)


async def upload_body(
    session: AsyncSession, outcome: SubmitOutcome, principal: Principal, secret: bytes
) -> dict[str, Any]:
    statuses = [
        status_payload(
            await view_of(session, item.submission, principal, secret=secret),
            duplicate=item.duplicate,
        )
        for item in outcome.items
    ]
    body: dict[str, Any]
    if outcome.multi_track:
        body = MultiTrackUpload(submissions=statuses).model_dump(mode="json")
    else:
        body = statuses[0].model_dump(mode="json")
    if outcome.rejected:
        count = outcome.items[0].submission.error_count
        body["error"] = ErrorInfo(
            type="InvalidInput",
            message=f"the file has {count:,} error(s) and was not accepted; nothing was "
            "queued. Fix every listed line and upload it again",
            details=outcome.error_report,
        ).model_dump(mode="json")
    return body


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionStatus,
    responses=error_responses(notes={404: "No such submission, or a private one of another team"}),
)
async def get_submission_status(
    session: SessionDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
    submission_id: RowId,
    key: str | None = None,
) -> SubmissionStatus:
    """A published submission is public; a private one needs its team's token (or `key`)."""
    view = await submission_view(
        session, submission_id, principal, key=key, secret=keys.view_link_key
    )
    return status_payload(view)


def action_endpoint(action: SubmissionAction) -> Callable[..., Awaitable[SubmissionStatus]]:
    async def endpoint(
        settings: SettingsDep,
        keys: KeysDep,
        uow: UnitOfWorkDep,
        principal: CurrentPrincipal,
        submission_id: RowId,
    ) -> SubmissionStatus:
        request = ActionRequest(settings, uow, principal, submission_id)
        await action.apply(request)
        view = await submission_view(
            request.session, submission_id, principal, secret=keys.view_link_key
        )
        return status_payload(view)

    return endpoint


for _action in SUBMISSION_ACTIONS:
    router.add_api_route(
        f"/submissions/{{submission_id}}/{_action.verb}",
        action_endpoint(_action),
        methods=["POST"],
        response_model=SubmissionStatus,
        name=f"{_action.verb}_submission",
        summary=f"{_action.verb.capitalize()} Submission",
        description=_action.description,
    )


@router.get("/quota", response_model=QuotaStatus)
async def get_quota(
    session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> QuotaStatus:
    """The calling team's upload quota per track (accepted submissions, rolling 24 hours)."""
    return quota_payload(await team_quota(session, principal, settings.submissions_per_day))


def quota_payload(quota: Quota) -> QuotaStatus:
    return QuotaStatus(
        team=quota.team,
        exempt=quota.exempt,
        limit=quota.limit,
        tracks={
            track.value: TrackQuotaStatus(
                used=q.used, limit=q.limit, remaining=q.remaining, next_slot_at=q.next_slot_at
            )
            for track, q in quota.tracks.items()
        },
    )
