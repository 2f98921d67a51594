"""Submissions: what was uploaded, by whom, and whether it was valid."""

from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, and_, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from app.db.models import EvaluationRun, Submission, SubmissionState
from app.runs import FailureKind, RunStatus


async def get(
    session: AsyncSession, submission_id: int, *, for_update: bool = False
) -> Submission | None:
    """`for_update`: lock the row until the transaction ends (and read it afresh), so a check
    made on it still holds when the change it guards commits."""
    if for_update:
        return await session.get(
            Submission, submission_id, with_for_update=True, populate_existing=True
        )
    return await session.get(Submission, submission_id)


async def find_accepted_duplicate(
    session: AsyncSession, model_id: int, track: str, file_sha256: str
) -> Submission | None:
    return await session.scalar(
        select(Submission)
        .where(
            Submission.model_id == model_id,
            Submission.track == track,
            Submission.file_sha256 == file_sha256,
            Submission.state == SubmissionState.ACCEPTED,
        )
        .order_by(Submission.id)
        .limit(1)
    )


def _latest_own_run_id(
    submission_id: int | InstrumentedAttribute[int],
) -> ScalarSelect[int | None]:
    """The id of a submission's latest run of its own (not one a maintainer's rejudge made)."""
    own = aliased(EvaluationRun)
    return (
        select(func.max(own.id))
        .where(own.submission_id == submission_id, own.rejudge_id.is_(None))
        .correlate_except(own)
        .scalar_subquery()
    )


async def latest_own_run(session: AsyncSession, submission_id: int) -> EvaluationRun | None:
    """The run the submitter's actions (cancel, re-queue) and the upload quota refer to."""
    return await session.scalar(
        select(EvaluationRun).where(EvaluationRun.id == _latest_own_run_id(submission_id))
    )


def _not_counted() -> ColumnElement[bool]:
    """Runs whose submission does not use up a slot: failed on the service's side, or
    cancelled before judging started."""
    return or_(
        and_(
            EvaluationRun.status == RunStatus.FAILED,
            EvaluationRun.failure_kind == FailureKind.SERVICE,
        ),
        and_(
            EvaluationRun.status == RunStatus.CANCELLED,
            EvaluationRun.started_at.is_(None),
        ),
    )


async def counted_since(
    session: AsyncSession, team_id: int, since: datetime
) -> list[tuple[str, datetime, int]]:
    """(track, created_at, submission id) of a team's accepted submissions created after
    `since` that count against its upload quota (docs/submissions.md), oldest first."""
    rows = await session.execute(
        select(Submission.track, Submission.created_at, Submission.id)
        .outerjoin(EvaluationRun, EvaluationRun.id == _latest_own_run_id(Submission.id))
        .where(
            Submission.team_id == team_id,
            Submission.state == SubmissionState.ACCEPTED,
            Submission.created_at > since,
            or_(EvaluationRun.id.is_(None), not_(_not_counted())),
        )
        .order_by(Submission.created_at, Submission.id)
    )
    return [(track, created_at, submission_id) for track, created_at, submission_id in rows]


async def set_pinned(session: AsyncSession, submission: Submission, pinned: bool) -> None:
    """Pin one submission of its model and track (unpinning any other), or unpin it."""
    if pinned:
        await session.execute(
            update(Submission)
            .where(
                Submission.model_id == submission.model_id,
                Submission.track == submission.track,
                Submission.id != submission.id,
            )
            .values(pinned=False)
            .execution_options(synchronize_session=False)
        )
    submission.pinned = pinned
    await session.flush()


async def set_published(session: AsyncSession, submission: Submission, published: bool) -> None:
    submission.published = published
    await session.flush()
