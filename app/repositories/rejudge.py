"""Rejudges and what they read: their runs, the submissions they cover, item rows for diffs.

Status changes are compare-and-set (`UPDATE … WHERE status = :expected`), and `lock` serialises
everyone who advances one rejudge (creates its next runs, or finishes it) until commit.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    EvaluationRun,
    ItemResult,
    Model,
    Rejudge,
    RejudgeStatus,
    RunAggregate,
    Submission,
    SubmissionState,
    TrackConfig,
)
from app.runs import ACTIVE, RunStatus
from app.tracks import Track

_ACTIVE = list(ACTIVE)
_ON_BOARD = [RunStatus.SCORED, *_ACTIVE]


@dataclass(frozen=True)
class ItemSnapshot:
    """What a run stored for one item, as far as a diff cares."""

    ratings: dict[str, int] | None
    item_score: float | None
    error: bool
    missing: bool


async def get(session: AsyncSession, rejudge_id: int) -> Rejudge | None:
    return await session.get(Rejudge, rejudge_id)


async def lock(session: AsyncSession, rejudge_id: int) -> Rejudge | None:
    """The rejudge, locked until the transaction ends. A no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite (where SELECT … FOR UPDATE does not exist)."""
    result = await session.execute(
        update(Rejudge)
        .where(Rejudge.id == rejudge_id)
        .values(status=Rejudge.status)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return await session.get(Rejudge, rejudge_id, populate_existing=True)


async def transition(
    session: AsyncSession,
    rejudge_id: int,
    expected: RejudgeStatus,
    target: RejudgeStatus,
    **fields: Any,
) -> bool:
    """Move a rejudge from `expected` to `target` only if it is still `expected`."""
    result = await session.execute(
        update(Rejudge)
        .where(Rejudge.id == rejudge_id, Rejudge.status == expected)
        .values(status=target, **fields)
        .execution_options(synchronize_session=False)
    )
    changed = bool(result.rowcount)  # type: ignore[attr-defined]
    if changed:
        await session.get(Rejudge, rejudge_id, populate_existing=True)
    return changed


async def recent(session: AsyncSession, limit: int = 50) -> list[Rejudge]:
    return list(await session.scalars(select(Rejudge).order_by(Rejudge.id.desc()).limit(limit)))


async def with_status(session: AsyncSession, statuses: Iterable[str]) -> list[Rejudge]:
    query = select(Rejudge).where(Rejudge.status.in_(list(statuses))).order_by(Rejudge.id)
    return list(await session.scalars(query))


async def runs_of(session: AsyncSession, rejudge_id: int) -> list[EvaluationRun]:
    query = select(EvaluationRun).where(EvaluationRun.rejudge_id == rejudge_id)
    return list(await session.scalars(query.order_by(EvaluationRun.id)))


async def active_rejudge_runs(session: AsyncSession) -> int:
    """Queued or judging runs of any rejudge: what the rejudge window counts."""
    count = await session.scalar(
        select(func.count())
        .select_from(EvaluationRun)
        .where(EvaluationRun.rejudge_id.is_not(None), EvaluationRun.status.in_(_ACTIVE))
    )
    return count or 0


async def submissions_on_board(
    session: AsyncSession, track: Track, rubric_version: str, judge_model_id: int
) -> list[Submission]:
    """Accepted submissions of `track` with a run under the pair that is scored or on its way:
    everything the track's board shows (or will show) under that pair. Oldest first."""
    has_run = (
        select(EvaluationRun.id)
        .where(
            EvaluationRun.submission_id == Submission.id,
            EvaluationRun.rubric_version == rubric_version,
            EvaluationRun.judge_model_id == judge_model_id,
            EvaluationRun.status.in_(_ON_BOARD),
        )
        .exists()
    )
    query = select(Submission).where(
        Submission.track == track.value,
        Submission.state == SubmissionState.ACCEPTED,
        has_run,
    )
    return list(await session.scalars(query.order_by(Submission.id)))


async def submissions_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Submission]:
    if not ids:
        return []
    query = select(Submission).where(Submission.id.in_(list(ids))).order_by(Submission.id)
    return list(await session.scalars(query))


async def scored_runs_under_pair(
    session: AsyncSession,
    submission_ids: Sequence[int],
    rubric_version: str,
    judge_model_id: int,
    *,
    not_of_rejudge: int | None = None,
) -> dict[int, EvaluationRun]:
    """The newest scored run under the pair for each submission that has one (optionally
    leaving out the runs of one rejudge)."""
    if not submission_ids:
        return {}
    query = select(EvaluationRun).where(
        EvaluationRun.submission_id.in_(list(submission_ids)),
        EvaluationRun.rubric_version == rubric_version,
        EvaluationRun.judge_model_id == judge_model_id,
        EvaluationRun.status == RunStatus.SCORED,
    )
    if not_of_rejudge is not None:
        query = query.where(
            EvaluationRun.rejudge_id.is_(None) | (EvaluationRun.rejudge_id != not_of_rejudge)
        )
    latest: dict[int, EvaluationRun] = {}
    for run in await session.scalars(query.order_by(EvaluationRun.id)):
        latest[run.submission_id] = run
    return latest


async def error_counts(session: AsyncSession, run_ids: Sequence[int]) -> tuple[int, int]:
    """(judge-error items, answered items) over the runs' stored item rows."""
    if not run_ids:
        return 0, 0
    row = (
        await session.execute(
            select(
                func.count().filter(ItemResult.error.is_not(None)),
                func.count().filter(ItemResult.missing.is_(False)),
            ).where(ItemResult.run_id.in_(list(run_ids)))
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def item_snapshots(
    session: AsyncSession, run_ids: Sequence[int]
) -> dict[int, dict[str, ItemSnapshot]]:
    """Per run, per item: ratings and outcome. Reads item rows: for maintainers' diffs only."""
    snapshots: dict[int, dict[str, ItemSnapshot]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return snapshots
    rows = await session.execute(
        select(
            ItemResult.run_id,
            ItemResult.item_id,
            ItemResult.ratings,
            ItemResult.item_score,
            ItemResult.error,
            ItemResult.missing,
        ).where(ItemResult.run_id.in_(list(run_ids)))
    )
    for run_id, item_id, ratings, score, error, missing in rows:
        snapshots[run_id][item_id] = ItemSnapshot(
            dict(ratings) if ratings is not None else None, score, error is not None, missing
        )
    return snapshots


async def aggregates(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, RunAggregate]:
    if not run_ids:
        return {}
    rows = await session.scalars(select(RunAggregate).where(RunAggregate.run_id.in_(list(run_ids))))
    return {row.run_id: row for row in rows}


async def models_of(session: AsyncSession, model_ids: Iterable[int]) -> dict[int, Model]:
    ids = list(set(model_ids))
    if not ids:
        return {}
    return {m.id: m for m in await session.scalars(select(Model).where(Model.id.in_(ids)))}


async def scored_runs_by_rubric(session: AsyncSession) -> dict[str, int]:
    """How many scored runs each rubric version has (any judge, any submission)."""
    rows = await session.execute(
        select(EvaluationRun.rubric_version, func.count())
        .where(EvaluationRun.status == RunStatus.SCORED)
        .group_by(EvaluationRun.rubric_version)
    )
    return {version: count for version, count in rows}


async def submissions_with_run_under_pair(
    session: AsyncSession, submission_ids: Sequence[int], rubric_version: str, judge_model_id: int
) -> set[int]:
    """Which of the submissions have any run (whatever its status) under the pair."""
    if not submission_ids:
        return set()
    rows = await session.scalars(
        select(EvaluationRun.submission_id).where(
            EvaluationRun.submission_id.in_(list(submission_ids)),
            EvaluationRun.rubric_version == rubric_version,
            EvaluationRun.judge_model_id == judge_model_id,
        )
    )
    return set(rows)


async def last_switched(session: AsyncSession, track: Track) -> Rejudge | None:
    """The track's most recent rejudge that switched its board."""
    return await session.scalar(
        select(Rejudge)
        .where(Rejudge.track == track.value, Rejudge.switched.is_(True))
        .order_by(Rejudge.id.desc())
        .limit(1)
    )


async def lock_track(session: AsyncSession, track: Track) -> None:
    """Serialise rejudge starts and resumes of one track until commit (the track's config row
    is the lock: a no-op UPDATE, as in `lock`)."""
    await session.execute(
        update(TrackConfig)
        .where(TrackConfig.track == track.value)
        .values(track=TrackConfig.track, updated_at=TrackConfig.updated_at)  # not a change
        .execution_options(synchronize_session=False)
    )
