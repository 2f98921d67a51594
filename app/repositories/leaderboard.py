"""Reads for leaderboards: stored aggregates only, never per-item rows."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EvaluationRun, JudgeModel, Model, RunAggregate, Submission, TrackConfig
from app.runs import RunStatus


@dataclass(frozen=True)
class ScoredEntry:
    model: Model
    track: str
    submission_id: int
    submitted_at: datetime
    run_id: int
    rubric_version: str
    judge_model: str
    judge_is_reference: bool
    aggregate: RunAggregate


async def scored_under_active_pair(session: AsyncSession) -> list[ScoredEntry]:
    """Scored runs of published submissions under each track's active rubric and judge,
    newest submission first."""
    rows = await session.execute(
        select(Model, Submission, EvaluationRun, RunAggregate, JudgeModel)
        .join(Submission, Submission.model_id == Model.id)
        .join(EvaluationRun, EvaluationRun.submission_id == Submission.id)
        .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
        .join(JudgeModel, JudgeModel.id == EvaluationRun.judge_model_id)
        .join(
            TrackConfig,
            (TrackConfig.track == Submission.track)
            & (TrackConfig.rubric_version == EvaluationRun.rubric_version)
            & (TrackConfig.judge_model_id == EvaluationRun.judge_model_id),
        )
        .where(EvaluationRun.status == RunStatus.SCORED.value, Submission.published.is_(True))
        .order_by(Submission.created_at.desc(), EvaluationRun.id.desc())
    )
    return [
        ScoredEntry(
            model=model,
            track=submission.track,
            submission_id=submission.id,
            submitted_at=submission.created_at,
            run_id=run.id,
            rubric_version=run.rubric_version,
            judge_model=judge.name,
            judge_is_reference=judge.is_reference,
            aggregate=aggregate,
        )
        for model, submission, run, aggregate, judge in rows
    ]
