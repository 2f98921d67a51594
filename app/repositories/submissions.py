"""Submissions: what was uploaded, by whom, and whether it was valid."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Submission, SubmissionState


async def get(session: AsyncSession, submission_id: int) -> Submission | None:
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
            Submission.state == SubmissionState.ACCEPTED.value,
        )
        .order_by(Submission.id)
        .limit(1)
    )


async def add(session: AsyncSession, submission: Submission) -> Submission:
    session.add(submission)
    await session.flush()
    return submission
