"""Human reliability labels, and the judge's ratings on the items they cover."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EvaluationRun, HumanLabel, ItemResult, RunAggregate, Submission
from app.repositories.upsert import upsert
from app.runs import RunStatus
from app.tracks import Track

LabelKey = tuple[int, str, str, str]  # (submission id, item id, dimension, rater)


async def existing_keys(session: AsyncSession, submission_ids: Sequence[int]) -> set[LabelKey]:
    if not submission_ids:
        return set()
    rows = await session.execute(
        select(
            HumanLabel.submission_id, HumanLabel.item_id, HumanLabel.dimension, HumanLabel.rater
        ).where(HumanLabel.submission_id.in_(list(submission_ids)))
    )
    return {(sid, item, dim, rater) for sid, item, dim, rater in rows}


async def upsert_labels(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert labels; a label given again (same submission, item, dimension, rater) is
    replaced."""
    for start in range(0, len(rows), 500):
        await upsert(
            session,
            HumanLabel,
            rows[start : start + 500],
            key=["submission_id", "item_id", "dimension", "rater"],
            update=["value", "track", "created_at"],
        )


async def labels_for_track(session: AsyncSession, track: Track) -> list[HumanLabel]:
    query = select(HumanLabel).where(HumanLabel.track == track.value)
    return list(
        await session.scalars(
            query.order_by(HumanLabel.submission_id, HumanLabel.item_id, HumanLabel.rater)
        )
    )


async def judged_ratings(
    session: AsyncSession, run_ids: Sequence[int]
) -> dict[int, dict[str, dict[str, int]]]:
    """Per run, per item: the judge's ratings (items without a usable rating are left out)."""
    ratings: dict[int, dict[str, dict[str, int]]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return ratings
    rows = await session.execute(
        select(ItemResult.run_id, ItemResult.item_id, ItemResult.ratings).where(
            ItemResult.run_id.in_(list(run_ids)),
            ItemResult.error.is_(None),
            ItemResult.missing.is_(False),
        )
    )
    for run_id, item_id, values in rows:
        if values is not None:
            ratings[run_id][item_id] = dict(values)
    return ratings


async def scored_run_sums(
    session: AsyncSession,
    track: Track,
    rubric_version: str,
    judge_model_id: int,
    columns: Sequence[str],
) -> tuple[int, int, dict[str, int]]:
    """Over the scored runs of `track` under one rubric version and judge: how many runs, how
    many items were answered, and the sum of each counter in `columns`: a column of the run's
    final aggregate (e.g. "judge_error_count") or of the run itself (e.g.
    "judge_inconsistencies"). A run's running `judge_errors` counter is no measure here: an item
    retried after an error is counted again."""
    counters = [
        func.coalesce(func.sum(getattr(RunAggregate, c, None) or getattr(EvaluationRun, c)), 0)
        for c in columns
    ]
    row = (
        await session.execute(
            select(
                func.count(EvaluationRun.id),
                func.coalesce(func.sum(RunAggregate.answered_count), 0),
                *counters,
            )
            .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
            .join(Submission, Submission.id == EvaluationRun.submission_id)
            .where(
                EvaluationRun.status == RunStatus.SCORED,
                EvaluationRun.rubric_version == rubric_version,
                EvaluationRun.judge_model_id == judge_model_id,
                Submission.track == track.value,
            )
        )
    ).one()
    runs, items, *sums = row
    return int(runs), int(items), {c: int(s) for c, s in zip(columns, sums, strict=True)}
