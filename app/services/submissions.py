"""Submitting predictions: store the raw file first, then — under the team's upload lock —
validate, record, check the quota and create the runs. The caller commits, then enqueues.

One upload is one submission per track it holds: a single-track upload names its track; a
multi-track upload (no track) carries `"track"` on every line and becomes one submission per
track present, each stored as its own per-track file so the judge reads it like any other.
"""

import asyncio
import json
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import EvaluationRun, Model, Submission, SubmissionState
from app.errors import PayloadTooLarge, ServiceNotReady
from app.formats.predictions import (
    PredictionFile,
    PredictionFileTooLarge,
    gunzip_limited,
    parse_predictions,
)
from app.formats.text import printable_json
from app.repositories import accounts as accounts_repo
from app.repositories import gold as gold_repo
from app.repositories import models as models_repo
from app.repositories import runs as runs_repo
from app.repositories import submissions as submissions_repo
from app.repositories.rows import add_row
from app.services.accounts import Principal
from app.services.configuration import active_pair
from app.services.model_registry import ModelFields, resolve_for_upload
from app.services.quota import check_quota
from app.services.screening import record as record_screening
from app.services.screening import screen_tracks
from app.storage import FileStore
from app.tracks import Track


@dataclass(frozen=True)
class SubmissionRequest:
    principal: Principal
    model: str
    track: Track | None  # None: a multi-track file, every line names its track
    filename: str
    data: bytes
    model_fields: ModelFields = field(default_factory=ModelFields)  # used for a new model only


@dataclass
class TrackOutcome:
    submission: Submission
    run: EvaluationRun | None  # None for a rejected file
    duplicate: bool = False


@dataclass
class SubmitOutcome:
    items: list[TrackOutcome]
    multi_track: bool
    error_report: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(i.submission.state == SubmissionState.REJECTED for i in self.items)

    @property
    def created(self) -> bool:
        return any(not i.duplicate for i in self.items)

    def runs_to_enqueue(self) -> list[tuple[int, int]]:
        return [
            (item.run.id, item.run.attempt)
            for item in self.items
            if item.run is not None and not item.duplicate
        ]


async def submit(
    session: AsyncSession, store: FileStore, settings: Settings, request: SubmissionRequest
) -> SubmitOutcome:
    principal = request.principal
    # Kept even when the file turns out to be invalid: the rejected submission names it.
    file_sha256 = await store.put(session, request.data)
    # Uploads of one team are serialised from here until commit, so the quota check and the
    # inserts below cannot interleave with another upload.
    await accounts_repo.lock_team_uploads(session, principal.team_id)
    gold_version = await gold_repo.current_version(session)
    if gold_version is None:
        raise ServiceNotReady("no gold set has been imported yet; run `mmrare gold import PATH`")
    model = await resolve_for_upload(session, principal, request.model, request.model_fields)

    if request.track is not None:
        duplicate = await submissions_repo.find_accepted_duplicate(
            session, model.id, request.track.value, file_sha256
        )
        if duplicate is not None:
            run = await submissions_repo.latest_own_run(session, duplicate.id)
            return SubmitOutcome([TrackOutcome(duplicate, run, True)], multi_track=False)

    gold_ids = await gold_repo.item_tracks(session, gold_version.id)
    totals = {track: 0 for track in Track}
    for track in gold_ids.values():
        totals[track] += 1
    parsed = await asyncio.to_thread(_parse, request, settings, gold_ids)

    def new_submission(track: Track, sha256: str, filename: str, size: int) -> Submission:
        return Submission(
            model_id=model.id,
            track=track.value,
            gold_version_id=gold_version.id,
            file_sha256=sha256,
            filename=filename,
            size_bytes=size,
            uploaded_by=principal.label,
            team_id=model.team_id if model.team_id is not None else principal.team_id,
            total_items=totals[track],
            published=False,  # private until its team publishes it
        )

    multi = request.track is None
    if not parsed.ok:
        # Kept only to be shown: made printable, so its status page can always be rendered.
        errors = printable_json(
            [{"line": e.line, "id": e.item_id, "message": e.message} for e in parsed.errors]
        )
        items = []
        for track in _rejected_tracks(request.track, parsed):
            submission = new_submission(track, file_sha256, request.filename, len(request.data))
            submission.state = SubmissionState.REJECTED
            submission.errors = errors
            submission.error_count = parsed.error_count
            submission.answered = parsed.answered(track)
            submission.empty_predictions = parsed.empty(track)
            items.append(TrackOutcome(await add_row(session, submission), None))
        report = printable_json(parsed.report().splitlines())
        return SubmitOutcome(items, multi, error_report=report)

    # Per track: the bytes the judge will read, and whether they were submitted before.
    planned: list[tuple[Track, str, str, int]] = []
    items = []
    for track in sorted(parsed.predictions):
        if multi:
            content = _track_file(track, parsed.predictions[track])
            sha256, filename = (
                await store.put(session, content),
                f"{request.filename} [{track.value}]",
            )
            size = len(content)
        else:
            sha256, filename, size = file_sha256, request.filename, len(request.data)
        duplicate = await submissions_repo.find_accepted_duplicate(
            session, model.id, track.value, sha256
        )
        if duplicate is not None:
            run = await submissions_repo.latest_own_run(session, duplicate.id)
            items.append(TrackOutcome(duplicate, run, True))
        else:
            planned.append((track, sha256, filename, size))

    await check_quota(
        session, principal, [track for track, *_ in planned], settings.submissions_per_day
    )
    # Prompt-injection screening, before any run is queued (CPU only: off the event loop).
    flags = await asyncio.to_thread(
        screen_tracks, {track: parsed.predictions[track] for track, *_ in planned}
    )
    for track, sha256, filename, size in planned:
        submission = new_submission(track, sha256, filename, size)
        submission.answered = parsed.answered(track)
        submission.empty_predictions = parsed.empty(track)
        await add_row(session, submission)
        await record_screening(session, submission, flags[track])
        items.append(TrackOutcome(submission, await _first_run(session, submission, track)))
    items.sort(key=lambda item: item.submission.track)
    return SubmitOutcome(items, multi)


async def _first_run(session: AsyncSession, submission: Submission, track: Track) -> EvaluationRun:
    pair = await active_pair(session, track)
    return await runs_repo.add(session, submission, pair.rubric_version, pair.judge_model_id)


def _rejected_tracks(track: Track | None, parsed: PredictionFile) -> list[Track]:
    """Where a rejected upload is recorded: its track; for a multi-track file, each track its
    valid lines name (every track when none does)."""
    if track is not None:
        return [track]
    return sorted(parsed.predictions) or list(Track)


def _track_file(track: Track, predictions: dict[str, str]) -> bytes:
    """One track's predictions from a multi-track upload, as the JSONL the judge reads."""
    lines = (
        json.dumps({"id": item_id, "track": track.value, "prediction": text}, ensure_ascii=False)
        for item_id, text in predictions.items()
    )
    return ("\n".join(lines) + "\n").encode()


def _parse(
    request: SubmissionRequest, settings: Settings, gold_ids: dict[str, Track]
) -> PredictionFile:
    try:
        data = gunzip_limited(request.data, settings.max_upload_bytes)
    except PredictionFileTooLarge:
        raise PayloadTooLarge(
            f"the file decompresses to more than the {settings.max_upload_bytes:,}-byte limit; "
            "split it into several uploads (one per track)"
        ) from None
    return parse_predictions(
        data,
        filename=request.filename,
        track=request.track,
        gold_ids=gold_ids,
        max_prediction_chars=settings.max_prediction_chars,
    )


async def get_model_of(session: AsyncSession, submission: Submission) -> Model:
    model = await models_repo.get(session, submission.model_id)
    assert model is not None  # enforced by the foreign key
    return model
