"""Upload predictions and follow their scoring."""

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from app.db.models import ModelCategory
from app.errors import InvalidInput, PayloadTooLarge
from app.services.status import SubmissionView, submission_view
from app.services.submissions import ModelSpec, SubmissionRequest, submit
from app.tracks import Track
from app.web.api.schemas import Coverage, Progress, RunResult, SubmissionStatus
from app.web.deps import QueueDep, SessionDep, SettingsDep, StoreDep

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])


def _track(value: str) -> Track:
    try:
        return Track(value.strip().upper())
    except ValueError:
        raise InvalidInput(
            f"track {value!r} is not a track; use one of {', '.join(t.value for t in Track)}"
        ) from None


def _category(value: str) -> ModelCategory:
    try:
        return ModelCategory(value)
    except ValueError:
        choices = ", ".join(c.value for c in ModelCategory)
        raise InvalidInput(f"category {value!r} is not one of {choices}") from None


def status_payload(view: SubmissionView, *, duplicate: bool = False) -> SubmissionStatus:
    sub, run, agg = view.submission, view.run, view.aggregate
    return SubmissionStatus(
        id=sub.id,
        model=view.model.name,
        track=sub.track,
        filename=sub.filename,
        file_sha256=sub.file_sha256,
        state=sub.state,
        status=run.status if run else None,
        created_at=sub.created_at,
        coverage=Coverage(answered=sub.answered, total=sub.total_items),
        progress=Progress(
            items_done=run.items_done,
            items_total=run.items_total,
            judge_errors=run.judge_errors,
            cache_hits=run.cache_hits,
            queue_position=view.queue_position,
        )
        if run
        else None,
        rubric_version=run.rubric_version if run else None,
        judge_model=view.judge.name if view.judge else None,
        judge_is_reference=view.judge.is_reference if view.judge else False,
        failure=run.error if run else None,
        result=RunResult(
            score=agg.score,
            f1=agg.f1,
            ci_low=agg.ci_low,
            ci_high=agg.ci_high,
            dimension_means=agg.dimension_means,
            judge_error_count=agg.judge_error_count,
            truncated_count=agg.truncated_count,
        )
        if agg
        else None,
        duplicate=duplicate,
        errors=list(sub.errors),
        error_count=sub.error_count,
    )


@router.post(
    "",
    response_model=SubmissionStatus,
    status_code=201,
    responses={
        200: {"description": "The same file was already submitted for this model and track"},
        413: {"description": "File larger than MAX_UPLOAD_BYTES"},
        422: {"description": "Invalid file: recorded as rejected, with line-numbered errors"},
    },
)
async def create_submission(
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
    file: Annotated[UploadFile, File(description="JSONL of {id, prediction}; .gz accepted")],
    track: Annotated[str, Form(description="T1, T2, T3 or T4")],
    model: Annotated[str, Form(description="Model name as shown on the leaderboard")],
    uploaded_by: Annotated[str, Form()] = "anonymous",
    organisation: Annotated[str | None, Form()] = None,
    open_weights: Annotated[bool, Form()] = False,
    medical: Annotated[bool, Form()] = False,
    category: Annotated[str, Form()] = ModelCategory.GENERAL.value,
) -> JSONResponse:
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"file is larger than the {settings.max_upload_bytes:,}-byte limit; "
            "split it by track or compress it with gzip"
        )
    request = SubmissionRequest(
        model=ModelSpec(
            name=model,
            organisation=organisation,
            open_weights=open_weights,
            medical=medical,
            category=_category(category),
        ),
        track=_track(track),
        filename=file.filename or "predictions.jsonl",
        data=data,
        uploaded_by=uploaded_by,
    )
    outcome = await submit(session, store, settings, request)
    await session.commit()
    if outcome.run is not None and not outcome.duplicate:
        await queue.enqueue_run(outcome.run.id, outcome.run.attempt)  # only after the commit
    view = await submission_view(session, outcome.submission.id)
    body = status_payload(view, duplicate=outcome.duplicate).model_dump(mode="json")
    if outcome.rejected:
        body["error"] = {
            "type": "InvalidInput",
            "message": (
                f"the file has {outcome.submission.error_count} error(s); nothing was queued"
            ),
            "details": outcome.error_report,
        }
        return JSONResponse(body, status_code=422)
    return JSONResponse(body, status_code=200 if outcome.duplicate else 201)


@router.get("/{submission_id}", response_model=SubmissionStatus)
async def get_submission_status(session: SessionDep, submission_id: int) -> SubmissionStatus:
    return status_payload(await submission_view(session, submission_id))
