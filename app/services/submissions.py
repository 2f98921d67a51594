"""Submitting predictions: store the raw file first, validate, record, then (after commit) queue."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import EvaluationRun, Model, ModelCategory, Submission, SubmissionState
from app.errors import InvalidInput, NotFound, PayloadTooLarge, ServiceNotReady
from app.formats.predictions import (
    PredictionFile,
    PredictionFileTooLarge,
    gunzip_limited,
    parse_predictions,
)
from app.repositories import gold as gold_repo
from app.repositories import models as models_repo
from app.repositories import runs as runs_repo
from app.repositories import submissions as submissions_repo
from app.services.configuration import active_pair
from app.storage import FileStore
from app.tracks import Track


@dataclass(frozen=True)
class ModelSpec:
    """What a developer may say about a model when it first appears."""

    name: str
    organisation: str | None = None
    open_weights: bool = False
    medical: bool = False
    category: ModelCategory = ModelCategory.GENERAL


@dataclass(frozen=True)
class SubmissionRequest:
    model: ModelSpec
    track: Track
    filename: str
    data: bytes
    uploaded_by: str


@dataclass
class SubmitOutcome:
    submission: Submission
    run: EvaluationRun | None  # None for a rejected file
    duplicate: bool = False
    error_report: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.submission.state == SubmissionState.REJECTED.value


async def _resolve_model(session: AsyncSession, spec: ModelSpec) -> Model:
    name = spec.name.strip()
    if not name:
        raise InvalidInput("model name is empty; pass the model's name, e.g. model=MyVLM-7B")
    model = await models_repo.get_by_name(session, name)
    if model is not None:
        return model
    medical = spec.medical or spec.category != ModelCategory.GENERAL
    return await models_repo.add(
        session,
        Model(
            name=name,
            organisation=spec.organisation,
            open_weights=spec.open_weights,
            medical=medical,
            category=spec.category.value,
        ),
    )


async def submit(
    session: AsyncSession, store: FileStore, settings: Settings, request: SubmissionRequest
) -> SubmitOutcome:
    file_sha256 = store.put(request.data)  # kept even when the file turns out to be invalid
    gold_version = await gold_repo.current_version(session)
    if gold_version is None:
        raise ServiceNotReady("no gold set has been imported yet; run `mmrare gold import PATH`")
    model = await _resolve_model(session, request.model)

    duplicate = await submissions_repo.find_accepted_duplicate(
        session, model.id, request.track.value, file_sha256
    )
    if duplicate is not None:
        return SubmitOutcome(
            duplicate, await runs_repo.latest_for_submission(session, duplicate.id), True
        )

    gold_ids = await gold_repo.item_tracks(session, gold_version.id)
    total = sum(1 for track in gold_ids.values() if track == request.track)
    parsed = _parse(request, settings, gold_ids)
    submission = Submission(
        model_id=model.id,
        track=request.track.value,
        gold_version_id=gold_version.id,
        file_sha256=file_sha256,
        filename=request.filename,
        size_bytes=len(request.data),
        uploaded_by=request.uploaded_by,
        total_items=total,
        published=True,
    )
    if not parsed.ok:
        submission.state = SubmissionState.REJECTED.value
        submission.errors = [
            {"line": e.line, "id": e.item_id, "message": e.message} for e in parsed.errors
        ]
        submission.error_count = parsed.error_count
        await submissions_repo.add(session, submission)
        return SubmitOutcome(submission, None, error_report=parsed.report().splitlines())

    submission.answered = len(parsed.predictions.get(request.track, {}))
    await submissions_repo.add(session, submission)
    pair = await active_pair(session, request.track)
    run = await runs_repo.add(
        session,
        EvaluationRun(
            submission_id=submission.id,
            rubric_version=pair.rubric_version,
            judge_model_id=pair.judge_model_id,
            items_total=total,
        ),
    )
    return SubmitOutcome(submission, run)


def _parse(
    request: SubmissionRequest, settings: Settings, gold_ids: dict[str, Track]
) -> PredictionFile:
    try:
        data = gunzip_limited(request.data, settings.max_upload_bytes)
    except PredictionFileTooLarge:
        raise PayloadTooLarge(
            f"the file decompresses to more than the {settings.max_upload_bytes:,}-byte limit; "
            "split it into several uploads"
        ) from None
    return parse_predictions(
        data,
        filename=request.filename,
        track=request.track,
        gold_ids=gold_ids,
        max_prediction_chars=settings.max_prediction_chars,
    )


async def get_submission(session: AsyncSession, submission_id: int) -> Submission:
    submission = await submissions_repo.get(session, submission_id)
    if submission is None:
        raise NotFound(f"submission {submission_id} does not exist")
    return submission
