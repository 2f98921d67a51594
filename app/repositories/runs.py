"""Evaluation runs, their item results and aggregates. Status changes are compare-and-set."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import EvaluationRun, ItemResult, RunAggregate, Submission
from app.repositories.rows import add_row
from app.repositories.upsert import upsert
from app.runs import ACTIVE, RunStatus, check_transition

ITEM_RESULT_COLUMNS = (
    "ratings",
    "item_score",
    "f1",
    "missing",
    "truncated",
    "cached",
    "attempts",
    "latency_ms",
    "error",
    "raw_reply",
    "updated_at",
)


async def get(session: AsyncSession, run_id: int) -> EvaluationRun | None:
    return await session.get(EvaluationRun, run_id)


async def add(
    session: AsyncSession,
    submission: Submission,
    rubric_version: str,
    judge_model_id: int,
    *,
    rejudge_id: int | None = None,
) -> EvaluationRun:
    """A new queued run of `submission` under a rubric version and judge model."""
    return await add_row(
        session,
        EvaluationRun(
            submission_id=submission.id,
            rubric_version=rubric_version,
            judge_model_id=judge_model_id,
            rejudge_id=rejudge_id,
            items_total=submission.total_items,
        ),
    )


async def transition(
    session: AsyncSession,
    run_id: int,
    expected: RunStatus,
    target: RunStatus,
    *,
    attempt: int | None = None,
    **fields: Any,
) -> bool:
    """Move a run from `expected` to `target` only if it is still `expected` (and, when given,
    still on `attempt`). Returns False when another actor got there first."""
    check_transition(expected, target)
    conditions = [EvaluationRun.id == run_id, EvaluationRun.status == expected]
    if attempt is not None:
        conditions.append(EvaluationRun.attempt == attempt)
    result = await session.execute(
        update(EvaluationRun)
        .where(*conditions)
        .values(status=target, **fields)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_progress(
    session: AsyncSession, run_id: int, attempt: int, **increments: int
) -> bool:
    """Heartbeat plus counter increments, fenced by attempt and status: False means stop work
    (the run was cancelled, or handed to a newer job)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    for name, delta in increments.items():
        column = getattr(EvaluationRun, name)
        values[name] = column + delta
    result = await session.execute(
        update(EvaluationRun)
        .where(
            EvaluationRun.id == run_id,
            EvaluationRun.attempt == attempt,
            EvaluationRun.status == RunStatus.JUDGING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def hand_over(
    session: AsyncSession, run_id: int, attempt: int, *, stale_before: datetime | None
) -> int | None:
    """Give an active run to a new job by bumping its attempt. With `stale_before`, only a run
    whose heartbeat is older (or missing) is taken. Returns the new attempt, or None."""
    conditions = [
        EvaluationRun.id == run_id,
        EvaluationRun.attempt == attempt,
        EvaluationRun.status.in_([s.value for s in ACTIVE]),
    ]
    if stale_before is not None:
        conditions.append(
            (EvaluationRun.heartbeat_at.is_(None)) | (EvaluationRun.heartbeat_at < stale_before)
        )
    result = await session.execute(
        update(EvaluationRun)
        .where(*conditions)
        .values(attempt=attempt + 1, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return attempt + 1 if result.rowcount else None  # type: ignore[attr-defined]


async def active_runs(session: AsyncSession) -> list[EvaluationRun]:
    result = await session.scalars(
        select(EvaluationRun)
        .where(EvaluationRun.status.in_([s.value for s in ACTIVE]))
        .order_by(EvaluationRun.id)
    )
    return list(result)


async def queue_position(session: AsyncSession, run: EvaluationRun) -> int:
    """1-based place among queued runs, oldest first."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(EvaluationRun)
        .where(EvaluationRun.status == RunStatus.QUEUED, EvaluationRun.id < run.id)
    )
    return (ahead or 0) + 1


async def judged_since(session: AsyncSession, run_id: int, since: datetime) -> int:
    """Items of the run the judge settled (scored or judge error, not missing) since `since`:
    the current attempt's pace, when `since` is its start."""
    count = await session.scalar(
        select(func.count())
        .select_from(ItemResult)
        .where(ItemResult.run_id == run_id, ItemResult.updated_at >= since, ~ItemResult.missing)
    )
    return int(count or 0)


async def completed_item_ids(session: AsyncSession, run_id: int) -> set[str]:
    """Items already judged or settled; judge errors are not complete and get another try."""
    rows = await session.scalars(
        select(ItemResult.item_id).where(ItemResult.run_id == run_id, ItemResult.error.is_(None))
    )
    return set(rows)


async def upsert_item_results(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(session, ItemResult, rows, key=["run_id", "item_id"], update=ITEM_RESULT_COLUMNS)


async def item_results(session: AsyncSession, run_id: int) -> list[ItemResult]:
    result = await session.scalars(
        select(ItemResult).where(ItemResult.run_id == run_id).order_by(ItemResult.item_id)
    )
    return list(result)


async def save_aggregate(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(
        session,
        RunAggregate,
        [values],
        key=["run_id"],
        update=[name for name in values if name != "run_id"],
    )


async def get_aggregate(session: AsyncSession, run_id: int) -> RunAggregate | None:
    return await session.get(RunAggregate, run_id)
