"""Reads for leaderboards: stored aggregates only, never per-item rows.

The one exception is `paired_item_scores`, which reads two runs' item scores for a paired
bootstrap; its result is stored in `paired_gaps`, so a page view reads that row afterwards.
Everything here returns plain values (named tuples and dataclasses), never ORM objects: the
views built from them are cached across requests and must not hold on to a session.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    EvaluationRun,
    ItemResult,
    JudgeModel,
    Model,
    PairedGap,
    ReportedResult,
    RubricVersion,
    RunAggregate,
    Submission,
    SubmissionState,
    TrackConfig,
)
from app.leaderboard.board import ModelInfo
from app.repositories.upsert import upsert
from app.runs import RunStatus
from app.tracks import Track


@dataclass(frozen=True)
class Pair:
    """A track's scores under one rubric version and one judge model."""

    track: Track
    rubric_version: str
    judge_model_id: int


@dataclass(frozen=True)
class ScoredCell:
    """One scored run of a published submission, with its stored aggregate."""

    model_id: int
    track: Track
    submission_id: int
    submitted_at: datetime
    pinned: bool
    gold_version_id: int
    run_id: int
    rubric_version: str
    judge_model_id: int
    score: float
    f1: float | None
    dimension_means: dict[str, float]
    ci_low: float | None
    ci_high: float | None
    item_count: int
    answered_count: int
    judge_error_count: int
    computed_at: datetime


@dataclass(frozen=True)
class ReportedRow:
    model_id: int
    source: str
    protocol: str
    t1_score: float | None
    t1_f1: float | None
    t2_score: float | None
    t3_score: float | None
    t4_score: float | None
    created_at: datetime


@dataclass(frozen=True)
class JudgeInfo:
    id: int
    name: str
    is_reference: bool


@dataclass(frozen=True)
class ScoredPairCount:
    """How many scored runs of published submissions a (track, rubric, judge) pair has."""

    track: Track
    rubric_version: str
    judge_model_id: int
    runs: int
    last_computed_at: datetime | None


@dataclass(frozen=True)
class HistoryRow:
    submission_id: int
    track: Track
    created_at: datetime
    filename: str
    pinned: bool
    answered: int
    total_items: int
    run_id: int | None  # its scored run under the board's pair, if any
    score: float | None
    f1: float | None


@dataclass(frozen=True)
class StoredGap:
    gap: float
    ci_low: float
    ci_high: float
    item_count: int


async def change_stamp(session: AsyncSession) -> tuple[Any, ...]:
    """A cheap fingerprint of everything a leaderboard view is built from, in one round trip.

    It moves when a run is scored or deleted, a submission is published, unpublished, pinned or
    unpinned, a track switches its rubric or judge, or a model or reported result is added. (Edits
    in place of model metadata or reported scores are not seen here; cached views also expire
    after a fixed age for those.)
    """
    published = Submission.published.is_(True)
    pinned = Submission.pinned.is_(True)
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(RunAggregate).scalar_subquery(),
                select(func.coalesce(func.sum(RunAggregate.run_id), 0)).scalar_subquery(),
                select(func.max(RunAggregate.computed_at)).scalar_subquery(),
                select(func.count()).select_from(Submission).where(published).scalar_subquery(),
                select(func.coalesce(func.sum(Submission.id), 0))
                .where(published)
                .scalar_subquery(),
                select(func.coalesce(func.sum(Submission.id), 0)).where(pinned).scalar_subquery(),
                select(func.max(TrackConfig.updated_at)).scalar_subquery(),
                select(func.coalesce(func.sum(TrackConfig.judge_model_id), 0)).scalar_subquery(),
                select(func.count()).select_from(Model).scalar_subquery(),
                select(func.coalesce(func.max(Model.id), 0)).scalar_subquery(),
                select(func.count()).select_from(ReportedResult).scalar_subquery(),
                select(func.max(ReportedResult.created_at)).scalar_subquery(),
            )
        )
    ).one()
    return tuple(str(value) if isinstance(value, datetime) else value for value in row)


async def active_pairs(session: AsyncSession) -> dict[Track, Pair]:
    rows = await session.execute(
        select(TrackConfig.track, TrackConfig.rubric_version, TrackConfig.judge_model_id)
    )
    return {Track(track): Pair(Track(track), rubric, judge_id) for track, rubric, judge_id in rows}


async def rubric_versions(session: AsyncSession) -> list[tuple[str, Track]]:
    """Every registered rubric version and its track, oldest first."""
    rows = await session.execute(
        select(RubricVersion.version, RubricVersion.track).order_by(
            RubricVersion.created_at, RubricVersion.version
        )
    )
    return [(version, Track(track)) for version, track in rows]


async def judges(session: AsyncSession) -> dict[int, JudgeInfo]:
    rows = await session.execute(select(JudgeModel.id, JudgeModel.name, JudgeModel.is_reference))
    return {id_: JudgeInfo(id_, name, is_reference) for id_, name, is_reference in rows}


async def scored_pair_counts(session: AsyncSession) -> list[ScoredPairCount]:
    """Pairs that have scores on published submissions: the boards a visitor can choose."""
    rows = await session.execute(
        select(
            Submission.track,
            EvaluationRun.rubric_version,
            EvaluationRun.judge_model_id,
            func.count(),
            func.max(RunAggregate.computed_at),
        )
        .join(EvaluationRun, EvaluationRun.submission_id == Submission.id)
        .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
        .where(EvaluationRun.status == RunStatus.SCORED, Submission.published.is_(True))
        .group_by(Submission.track, EvaluationRun.rubric_version, EvaluationRun.judge_model_id)
    )
    return [
        ScoredPairCount(Track(track), rubric, judge_id, count, last)
        for track, rubric, judge_id, count, last in rows
    ]


def _model_info(model: Any) -> ModelInfo:
    return ModelInfo(**{field.name: getattr(model, field.name) for field in fields(ModelInfo)})


_MODEL_COLUMNS = (
    Model.id,
    Model.name,
    Model.organisation,
    Model.open_weights,
    Model.medical,
    Model.category,
    Model.parameter_count,
    Model.url,
    Model.paper_url,
    Model.description,
    Model.team_id,
)


async def models(session: AsyncSession) -> dict[int, ModelInfo]:
    rows = await session.execute(select(*_MODEL_COLUMNS))
    return {row.id: _model_info(row) for row in rows}


async def model_by_name(session: AsyncSession, name: str) -> ModelInfo | None:
    row = (await session.execute(select(*_MODEL_COLUMNS).where(Model.name == name))).first()
    return None if row is None else _model_info(row)


def _pair_filter(pairs: Sequence[Pair]) -> Any:
    return or_(
        *(
            and_(
                Submission.track == pair.track.value,
                EvaluationRun.rubric_version == pair.rubric_version,
                EvaluationRun.judge_model_id == pair.judge_model_id,
            )
            for pair in pairs
        )
    )


async def scored_cells(
    session: AsyncSession, pairs: Sequence[Pair], *, model_id: int | None = None
) -> list[ScoredCell]:
    """Scored runs of published submissions under the given pairs (at most one per track).

    Ordered so that the first row per (model, track) is the one to show: a pinned submission
    before the others, then the newest submission, then its newest run.
    """
    if not pairs:
        return []
    query = (
        select(
            Submission.model_id,
            Submission.track,
            Submission.id,
            Submission.created_at,
            Submission.pinned,
            Submission.gold_version_id,
            EvaluationRun.id,
            EvaluationRun.rubric_version,
            EvaluationRun.judge_model_id,
            RunAggregate.score,
            RunAggregate.f1,
            RunAggregate.dimension_means,
            RunAggregate.ci_low,
            RunAggregate.ci_high,
            RunAggregate.item_count,
            RunAggregate.answered_count,
            RunAggregate.judge_error_count,
            RunAggregate.computed_at,
        )
        .join(EvaluationRun, EvaluationRun.submission_id == Submission.id)
        .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
        .where(
            EvaluationRun.status == RunStatus.SCORED,
            Submission.published.is_(True),
            Submission.state == SubmissionState.ACCEPTED,
            _pair_filter(pairs),
        )
        .order_by(
            Submission.pinned.desc(),
            Submission.created_at.desc(),
            Submission.id.desc(),
            EvaluationRun.id.desc(),
        )
    )
    if model_id is not None:
        query = query.where(Submission.model_id == model_id)
    rows = await session.execute(query)
    return [
        ScoredCell(
            model_id=r[0],
            track=Track(r[1]),
            submission_id=r[2],
            submitted_at=r[3],
            pinned=r[4],
            gold_version_id=r[5],
            run_id=r[6],
            rubric_version=r[7],
            judge_model_id=r[8],
            score=r[9],
            f1=r[10],
            dimension_means=dict(r[11] or {}),
            ci_low=r[12],
            ci_high=r[13],
            item_count=r[14],
            answered_count=r[15],
            judge_error_count=r[16],
            computed_at=r[17],
        )
        for r in rows
    ]


async def attempts(session: AsyncSession) -> dict[tuple[int, Track], int]:
    """(model id, track) → scored submissions: accepted submissions with at least one scored
    run under any rubric version and judge, private and published alike. Rejected files and
    submissions never scored (queued, cancelled, failed) do not count; rejudges of one
    submission count once."""
    scored = (
        select(EvaluationRun.id)
        .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
        .where(
            EvaluationRun.submission_id == Submission.id,
            EvaluationRun.status == RunStatus.SCORED,
        )
        .exists()
    )
    rows = await session.execute(
        select(Submission.model_id, Submission.track, func.count(Submission.id))
        .where(Submission.state == SubmissionState.ACCEPTED, scored)
        .group_by(Submission.model_id, Submission.track)
    )
    return {(model_id, Track(track)): count for model_id, track, count in rows}


async def reported(session: AsyncSession) -> list[ReportedRow]:
    rows = await session.execute(
        select(
            ReportedResult.model_id,
            ReportedResult.source,
            ReportedResult.protocol,
            ReportedResult.t1_score,
            ReportedResult.t1_f1,
            ReportedResult.t2_score,
            ReportedResult.t3_score,
            ReportedResult.t4_score,
            ReportedResult.created_at,
        ).order_by(ReportedResult.created_at, ReportedResult.model_id)
    )
    return [ReportedRow(*row) for row in rows]


async def published_history(
    session: AsyncSession, model_id: int, pairs: Sequence[Pair]
) -> list[HistoryRow]:
    """A model's published submissions, newest first, each with its score under the board's
    pair for its track when it has one. Aggregates only."""
    submissions = (
        await session.execute(
            select(
                Submission.id,
                Submission.track,
                Submission.created_at,
                Submission.filename,
                Submission.pinned,
                Submission.answered,
                Submission.total_items,
            )
            .where(
                Submission.model_id == model_id,
                Submission.published.is_(True),
                Submission.state == SubmissionState.ACCEPTED,
            )
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        )
    ).all()
    scores: dict[int, tuple[int, float, float | None]] = {}
    if submissions and pairs:
        rows = await session.execute(
            select(Submission.id, EvaluationRun.id, RunAggregate.score, RunAggregate.f1)
            .join(EvaluationRun, EvaluationRun.submission_id == Submission.id)
            .join(RunAggregate, RunAggregate.run_id == EvaluationRun.id)
            .where(
                Submission.model_id == model_id,
                EvaluationRun.status == RunStatus.SCORED,
                _pair_filter(pairs),
            )
            .order_by(EvaluationRun.id)
        )
        for submission_id, run_id, score, f1 in rows:
            scores[submission_id] = (run_id, score, f1)  # the newest run wins
    history: list[HistoryRow] = []
    for sid, track, created_at, filename, pinned, answered, total in submissions:
        found = scores.get(sid)
        history.append(
            HistoryRow(
                submission_id=sid,
                track=Track(track),
                created_at=created_at,
                filename=filename,
                pinned=pinned,
                answered=answered,
                total_items=total,
                run_id=found[0] if found else None,
                score=found[1] if found else None,
                f1=found[2] if found else None,
            )
        )
    return history


async def stored_gap(
    session: AsyncSession, run_a: int, run_b: int, *, resamples: int, seed: int
) -> StoredGap | None:
    row = await session.get(PairedGap, (run_a, run_b, resamples, seed))
    if row is None:
        return None
    return StoredGap(row.gap, row.ci_low, row.ci_high, row.item_count)


async def store_gap(
    session: AsyncSession, run_a: int, run_b: int, *, resamples: int, seed: int, gap: StoredGap
) -> None:
    """Insert-or-nothing: two processes computing the same pair store the same numbers."""
    row = {
        "run_a_id": run_a,
        "run_b_id": run_b,
        "resamples": resamples,
        "seed": seed,
        "gap": gap.gap,
        "ci_low": gap.ci_low,
        "ci_high": gap.ci_high,
        "item_count": gap.item_count,
    }
    await upsert(session, PairedGap, [row], key=["run_a_id", "run_b_id", "resamples", "seed"])


async def paired_item_scores(
    session: AsyncSession, run_ids: Sequence[int]
) -> dict[int, dict[str, float | None]]:
    """Per run, item id → item score (None for a judge error). Only for the paired bootstrap."""
    result: dict[int, dict[str, float | None]] = {run_id: {} for run_id in run_ids}
    rows = await session.execute(
        select(ItemResult.run_id, ItemResult.item_id, ItemResult.item_score, ItemResult.error)
        .where(ItemResult.run_id.in_(list(run_ids)))
        .order_by(ItemResult.run_id, ItemResult.item_id)
    )
    for run_id, item_id, score, error in rows:
        result[run_id][item_id] = None if error is not None else (score or 0.0)
    return result
