"""JSON API for maintainers: rubric versions, rejudges and their diffs, human labels,
judge reliability, prompt-injection flags, the audit log. Every endpoint needs an admin token.

Changes need `Authorization: Bearer <admin token>`. Reads also accept the HttpOnly cookie that
the maintainer pages' sign-in form sets (`mmrare_admin`); a cookie never authorises a change
through this API (the pages' own forms carry a CSRF token for that).
"""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.db.models import FlagDecision
from app.errors import InvalidInput
from app.services.audit import MAX_NOTE_CHARS, recent_events
from app.services.diffs import RejudgeDiff
from app.services.judge_health import judge_health
from app.services.rejudge import (
    RejudgeProgress,
    RejudgeRequest,
    RejudgeView,
    cancel_rejudge,
    list_rejudges,
    rejudge_diff,
    rejudge_view,
    resume_rejudge,
    start_rejudge,
)
from app.services.reliability import (
    ImportReport,
    TrackReliability,
    import_labels,
    reliability_report,
)
from app.services.rubrics import RubricInfo, activate_rubric, list_rubrics, load_rubric
from app.services.screening import (
    DecisionFilter,
    FlaggedSubmission,
    decide,
    flagged_submission,
    flagged_submissions,
)
from app.tracks import Track
from app.web.api.schemas.errors import MAINTAINER, error_responses
from app.web.api.schemas.fields import PlainLine, PlainText, RowIdValue
from app.web.auth import AdminPrincipal, AdminReader
from app.web.deps import RowId, RuntimeDep, SessionDep, SettingsDep, UnitOfWorkDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=MAINTAINER)

MAX_LABEL_FILE_BYTES = 20 * 1024 * 1024


# --- schemas -------------------------------------------------------------------------------


class RubricOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: str
    track: str
    title: str
    created_at: datetime
    active: bool
    scored_runs: int
    note: str | None = Field(None, description="The change note given when it was loaded")


class RubricIn(BaseModel):
    source: PlainText = Field(
        description="The rubric file's text (TOML); its sha256 is the version"
    )
    filename: PlainLine = Field(
        "rubric.toml", description="Named in error messages and the audit log"
    )
    note: PlainText | None = Field(
        None, max_length=MAX_NOTE_CHARS, description="What changed and why (kept with the version)"
    )


class ActivateIn(BaseModel):
    track: Track
    force: bool = Field(False, description="Activate although some board entries lack scores")


class ActivationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    track: str
    version: str
    previous: str
    changed: bool
    unscored_submissions: int = Field(
        validation_alias=AliasChoices("unscored_submissions", "unscored")
    )


class RejudgeIn(BaseModel):
    track: Track
    rubric_version: PlainLine | None = Field(None, description="Version or unique prefix")
    judge_model: PlainLine | None = None
    submission_ids: list[RowIdValue] = Field(default_factory=list, max_length=100_000)
    max_error_share: float | None = Field(None, ge=0, le=1)


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    run_id: int = Field(validation_alias=AliasChoices("run_id", "id"))
    submission_id: int
    status: str
    attempt: int
    items_done: int
    items_total: int
    judge_errors: int
    judge_inconsistencies: int = Field(
        description="Items whose verdicts contradict each other (T1: exact match, no category)"
    )
    cache_hits: int
    judge_calls: int
    error: str | None


class RejudgeRecordOut(BaseModel):
    """A rejudge as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    track: str
    status: str = Field(description="running, cancelled, completed or failed")
    switched: bool
    error: str | None = Field(description="Why a finished rejudge did not switch")
    rubric_version: str
    from_rubric_version: str | None
    submission_ids: list[int] | None
    max_error_share: float
    created_by: str
    created_at: datetime
    finished_at: datetime | None


class RejudgeOut(RejudgeRecordOut):
    judge_model: str
    from_judge_model: str | None
    progress: RejudgeProgress  # the service's own record, served as it is
    runs: list[RunOut]


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    action: str
    target: str | None
    details: dict[str, object]
    created_at: datetime


class FlaggedItemOut(BaseModel):
    id: str
    rules: list[str]


class FlaggedSubmissionOut(BaseModel):
    submission_id: int
    model: str
    team: str | None
    track: str
    published: bool
    ruleset_version: str
    flagged_items: int
    decision: str = Field(description="pending, cleared or upheld")
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    items: list[FlaggedItemOut]


class FlagDecisionIn(BaseModel):
    decision: Literal["cleared", "upheld"] = Field(
        description="cleared: false alarms, the team may publish; upheld: it stays off the board"
    )
    note: PlainText | None = Field(
        None, max_length=MAX_NOTE_CHARS, description="Kept in the audit log"
    )


def flagged_payload(entry: FlaggedSubmission) -> FlaggedSubmissionOut:
    s = entry.screening
    return FlaggedSubmissionOut(
        submission_id=entry.submission.id,
        model=entry.model,
        team=entry.team,
        track=entry.submission.track,
        published=entry.submission.published,
        ruleset_version=s.ruleset_version,
        flagged_items=s.flagged_items,
        decision=entry.state,
        decided_by=s.decided_by,
        decided_at=s.decided_at,
        note=s.decision_note,
        items=[FlaggedItemOut.model_validate(flag) for flag in s.flags],
    )


def rubric_payload(info: RubricInfo) -> RubricOut:
    return RubricOut.model_validate(info)


def rejudge_payload(view: RejudgeView) -> RejudgeOut:
    return RejudgeOut(
        **RejudgeRecordOut.model_validate(view.rejudge).model_dump(),
        judge_model=view.judge_model,
        from_judge_model=view.from_judge_model,
        progress=view.progress,
        runs=[RunOut.model_validate(run) for run in view.runs],
    )


# --- rubric versions -----------------------------------------------------------------------


@router.get("/rubrics", response_model=list[RubricOut])
async def get_rubrics(
    session: SessionDep, _: AdminReader, track: Track | None = None
) -> list[RubricOut]:
    return [rubric_payload(info) for info in await list_rubrics(session, track)]


@router.post(
    "/rubrics",
    response_model=RubricOut,
    status_code=201,
    responses={200: {"description": "The same content was already registered: nothing changed"}},
)
async def post_rubric(body: RubricIn, session: SessionDep, admin: AdminPrincipal) -> JSONResponse:
    loaded = await load_rubric(
        session, body.source, origin=body.filename, actor=admin.label, note=body.note
    )
    info = next(i for i in await list_rubrics(session) if i.version == loaded.rubric.version)
    return JSONResponse(
        rubric_payload(info).model_dump(mode="json"), status_code=201 if loaded.created else 200
    )


@router.post("/rubrics/{version}/activate", response_model=ActivationOut)
async def post_activate(
    version: str, body: ActivateIn, session: SessionDep, admin: AdminPrincipal
) -> ActivationOut:
    result = await activate_rubric(
        session, body.track, version, actor=admin.label, force=body.force
    )
    return ActivationOut.model_validate(result)


# --- rejudges ------------------------------------------------------------------------------


@router.get("/rejudges", response_model=list[RejudgeOut])
async def get_rejudges(
    session: SessionDep, _: AdminReader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[RejudgeOut]:
    return [rejudge_payload(view) for view in await list_rejudges(session, limit)]


@router.post("/rejudges", response_model=RejudgeOut, status_code=201)
async def post_rejudge(
    body: RejudgeIn,
    session: SessionDep,
    settings: SettingsDep,
    uow: UnitOfWorkDep,
    admin: AdminPrincipal,
) -> RejudgeOut:
    request = RejudgeRequest(
        track=body.track,
        rubric=body.rubric_version,
        judge_model=body.judge_model,
        submission_ids=tuple(body.submission_ids),
        max_error_share=body.max_error_share,
    )
    started = await start_rejudge(session, settings, request, actor=admin.label)
    uow.enqueue_runs(started.jobs)  # sent once the request's unit of work commits
    return rejudge_payload(await rejudge_view(session, started.rejudge.id))


@router.get("/rejudges/{rejudge_id}", response_model=RejudgeOut)
async def get_rejudge(rejudge_id: RowId, session: SessionDep, _: AdminReader) -> RejudgeOut:
    return rejudge_payload(await rejudge_view(session, rejudge_id))


@router.post("/rejudges/{rejudge_id}/cancel", response_model=RejudgeOut)
async def post_cancel(rejudge_id: RowId, session: SessionDep, admin: AdminPrincipal) -> RejudgeOut:
    await cancel_rejudge(session, rejudge_id, actor=admin.label)
    return rejudge_payload(await rejudge_view(session, rejudge_id))


@router.post("/rejudges/{rejudge_id}/resume", response_model=RejudgeOut)
async def post_resume(
    rejudge_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    uow: UnitOfWorkDep,
    admin: AdminPrincipal,
) -> RejudgeOut:
    started = await resume_rejudge(session, settings, rejudge_id, actor=admin.label)
    uow.enqueue_runs(started.jobs)
    return rejudge_payload(await rejudge_view(session, rejudge_id))


@router.get("/rejudges/{rejudge_id}/diff", response_model=RejudgeDiff)
async def get_diff(rejudge_id: RowId, session: SessionDep, _: AdminReader) -> RejudgeDiff:
    return await rejudge_diff(session, rejudge_id)


# --- prompt-injection flags -----------------------------------------------------------------


@router.get("/flags", response_model=list[FlaggedSubmissionOut])
async def get_flags(
    session: SessionDep,
    _: AdminReader,
    decision: DecisionFilter = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[FlaggedSubmissionOut]:
    """Submissions with items flagged by prompt-injection screening (default: undecided)."""
    return [flagged_payload(e) for e in await flagged_submissions(session, decision, limit)]


@router.post(
    "/submissions/{submission_id}/flags",
    response_model=FlaggedSubmissionOut,
    responses=error_responses(
        notes={404: "No such submission", 409: "The submission has no flagged items"}
    ),
)
async def post_flag_decision(
    submission_id: RowId, body: FlagDecisionIn, session: SessionDep, admin: AdminPrincipal
) -> FlaggedSubmissionOut:
    """Clear or uphold a submission's flags (audited; upholding unpublishes it)."""
    await decide(
        session, submission_id, FlagDecision(body.decision), actor=admin.label, note=body.note
    )
    return flagged_payload(await flagged_submission(session, submission_id))


# --- human labels, reliability, audit -------------------------------------------------------


@router.post("/human-labels", response_model=ImportReport, status_code=201)
async def post_labels(
    session: SessionDep,
    admin: AdminPrincipal,
    file: Annotated[UploadFile, File(description="JSONL labels (docs/maintainers.md)")],
) -> ImportReport:
    data = await file.read(MAX_LABEL_FILE_BYTES + 1)
    if len(data) > MAX_LABEL_FILE_BYTES:
        raise InvalidInput(f"the label file is larger than {MAX_LABEL_FILE_BYTES:,} bytes")
    return await import_labels(
        session, data, filename=file.filename or "labels.jsonl", actor=admin.label
    )


@router.get("/reliability", response_model=list[TrackReliability])
async def get_reliability(
    session: SessionDep, _: AdminReader, track: Track | None = None
) -> list[TrackReliability]:
    return await reliability_report(session, track)


class JudgeHealthOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    last_success_at: datetime | None = Field(description="The judge's last 2xx answer")
    last_error_at: datetime | None
    last_error_kind: str | None = Field(
        description="timeout, connection error, HTTP 429, HTTP 5xx, or a refusal of every "
        "request (HTTP 401, 403, 404, 405, 407)"
    )
    requests: int = Field(description="Judge requests of every worker in the last 5 minutes")
    errors: int
    error_rate: float | None = Field(description="errors / requests; null without requests")


@router.get("/judge-health", response_model=JudgeHealthOut)
async def get_judge_health(runtime: RuntimeDep, _: AdminReader) -> JudgeHealthOut:
    return JudgeHealthOut.model_validate(await judge_health(runtime))


@router.get("/audit", response_model=list[AuditOut])
async def get_audit(
    session: SessionDep, _: AdminReader, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditOut]:
    return [AuditOut.model_validate(event) for event in await recent_events(session, limit)]
