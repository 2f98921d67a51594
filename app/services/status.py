"""A submission's status as its submitter may see it: aggregates, never per-item results."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EvaluationRun, JudgeModel, Model, RunAggregate, Submission
from app.repositories import judging as judging_repo
from app.repositories import runs as runs_repo
from app.runs import RunStatus
from app.services.submissions import get_submission


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    model: Model
    run: EvaluationRun | None
    judge: JudgeModel | None
    aggregate: RunAggregate | None
    queue_position: int | None


async def submission_view(session: AsyncSession, submission_id: int) -> SubmissionView:
    submission = await get_submission(session, submission_id)
    model = await session.get(Model, submission.model_id)
    assert model is not None
    run = await runs_repo.latest_for_submission(session, submission.id)
    judge = aggregate = position = None
    if run is not None:
        judge = await judging_repo.get_judge_model(session, run.judge_model_id)
        if run.status == RunStatus.SCORED.value:
            aggregate = await runs_repo.get_aggregate(session, run.id)
        elif run.status == RunStatus.QUEUED.value:
            position = await runs_repo.queue_position(session, run)
    return SubmissionView(submission, model, run, judge, aggregate, position)
