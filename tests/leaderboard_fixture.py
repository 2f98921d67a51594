"""Judged leaderboard entries written straight into the database, for tests and benchmarks.

A real entry goes upload → queue → judge → aggregate; the leaderboard only ever reads the
result (a scored run and its `run_aggregates` row). These helpers write that result directly,
with exactly the numbers a test wants to check the pages against, or a thousand models' worth
for the load benchmark. Nothing here is used by the service itself.
"""

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    EvaluationRun,
    GoldVersion,
    ItemResult,
    JudgeModel,
    Model,
    RunAggregate,
    Submission,
    TrackConfig,
)
from app.runs import RunStatus
from app.tracks import Track

BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class ModelSpec:
    name: str
    open_weights: bool = True
    medical: bool = False
    category: str = "general"
    organisation: str | None = None
    description: str | None = None
    parameter_count: int | None = None
    url: str | None = None
    paper_url: str | None = None


@dataclass
class JudgedSpec:
    """One scored run of a published submission, with the aggregate the pages will show."""

    model: str
    track: Track
    score: float
    ci: tuple[float, float] | None = None
    f1: float | None = None
    dimension_means: dict[str, float] = field(default_factory=dict)
    item_count: int = 10
    answered: int = 10
    judge_errors: int = 0
    published: bool = True
    pinned: bool = False
    submitted_at: datetime | None = None
    item_scores: Sequence[float | None] | None = None  # per-item rows (paired bootstrap tests)
    rubric_version: str | None = None  # default: the track's active rubric
    judge_model: str | None = None  # default: the track's active judge
    gold_version_id: int | None = None  # default: the newest gold version


async def ensure_model(session: AsyncSession, spec: ModelSpec) -> Model:
    model = await session.scalar(select(Model).where(Model.name == spec.name))
    if model is None:
        model = Model(
            name=spec.name,
            open_weights=spec.open_weights,
            medical=spec.medical,
            category=spec.category,
            organisation=spec.organisation,
            description=spec.description,
            parameter_count=spec.parameter_count,
            url=spec.url,
            paper_url=spec.paper_url,
        )
        session.add(model)
        await session.flush()
    return model


async def ensure_gold_version(session: AsyncSession, label: str = "fixture") -> int:
    """The newest gold version, or a bare one (no items: pages never read gold items)."""
    newest = await session.scalar(select(func.max(GoldVersion.id)))
    if newest is not None and label == "fixture":
        return int(newest)
    version = GoldVersion(
        digest=hashlib.sha256(label.encode()).hexdigest(),
        source=f"leaderboard fixture ({label})",
        item_count=0,
        track_counts={},
        root=".",
    )
    session.add(version)
    await session.flush()
    return version.id


async def add_judged(session: AsyncSession, spec: JudgedSpec) -> tuple[int, int]:
    """Write a published submission, its scored run and aggregate; returns (submission, run)."""
    model = await session.scalar(select(Model).where(Model.name == spec.model))
    if model is None:
        model = await ensure_model(session, ModelSpec(spec.model))
    config = await session.get(TrackConfig, spec.track.value)
    assert config is not None, "run ensure_track_configuration first"
    rubric = spec.rubric_version or config.rubric_version
    judge_id = config.judge_model_id
    if spec.judge_model is not None:
        judge = await session.scalar(select(JudgeModel).where(JudgeModel.name == spec.judge_model))
        if judge is None:
            judge = JudgeModel(name=spec.judge_model, is_reference=False)
            session.add(judge)
            await session.flush()
        judge_id = judge.id
    gold = spec.gold_version_id or await ensure_gold_version(session)
    when = spec.submitted_at or BASE_TIME
    digest = hashlib.sha256(f"{spec.model}/{spec.track}/{when.isoformat()}".encode()).hexdigest()
    submission = Submission(
        model_id=model.id,
        track=spec.track.value,
        gold_version_id=gold,
        file_sha256=digest,
        filename=f"{spec.track.value}.jsonl",
        size_bytes=100,
        answered=spec.answered,
        total_items=spec.item_count,
        uploaded_by="fixture",
        published=spec.published,
        pinned=spec.pinned,
        created_at=when,
    )
    session.add(submission)
    await session.flush()
    run = EvaluationRun(
        submission_id=submission.id,
        rubric_version=rubric,
        judge_model_id=judge_id,
        status=RunStatus.SCORED.value,
        items_total=spec.item_count,
        items_done=spec.item_count,
        judge_errors=spec.judge_errors,
        created_at=when,
        finished_at=when,
    )
    session.add(run)
    await session.flush()
    low, high = spec.ci if spec.ci is not None else (None, None)
    session.add(
        RunAggregate(
            run_id=run.id,
            score=spec.score,
            f1=spec.f1,
            dimension_means=dict(spec.dimension_means),
            ci_low=low,
            ci_high=high,
            item_count=spec.item_count,
            answered_count=spec.answered,
            judge_error_count=spec.judge_errors,
            truncated_count=0,
            computed_at=when + timedelta(minutes=5),
        )
    )
    if spec.item_scores is not None:
        for index, value in enumerate(spec.item_scores):
            session.add(
                ItemResult(
                    run_id=run.id,
                    item_id=f"{spec.track.value}-{index:05d}",
                    item_score=value,
                    error=None if value is not None else "judge error",
                    ratings=None,
                )
            )
    await session.flush()
    return submission.id, run.id


# --------------------------------------------------------------------------------------------
# Bulk: a thousand models for the load benchmark
# --------------------------------------------------------------------------------------------


async def seed_bulk(
    session: AsyncSession, models: int, *, seed: int = 7, items: int = 100
) -> dict[str, int]:
    """`models` judged models × 4 tracks with plausible aggregates, by bulk INSERTs.

    Groups cycle through closed, open general, medical and medical unified. Item rows are
    written for nothing here (a page never reads them); the benchmark warms the one cached
    paired interval per compared pair separately.
    """
    rng = random.Random(seed)
    configs = {Track(row.track): row for row in (await session.scalars(select(TrackConfig))).all()}
    gold = await ensure_gold_version(session)
    start_model = int(await session.scalar(select(func.coalesce(func.max(Model.id), 0))) or 0)
    start_sub = int(await session.scalar(select(func.coalesce(func.max(Submission.id), 0))) or 0)
    start_run = int(await session.scalar(select(func.coalesce(func.max(EvaluationRun.id), 0))) or 0)
    groups = [
        (False, False, "general"),
        (True, False, "general"),
        (True, True, "medical"),
        (True, True, "medical_unified"),
    ]
    model_rows: list[dict[str, Any]] = []
    submission_rows: list[dict[str, Any]] = []
    run_rows: list[dict[str, Any]] = []
    aggregate_rows: list[dict[str, Any]] = []
    for i in range(models):
        model_id = start_model + i + 1
        open_weights, medical, category = groups[i % len(groups)]
        model_rows.append(
            {
                "id": model_id,
                "name": f"bench-model-{i:04d}",
                "organisation": f"Lab {i % 37}",
                "open_weights": open_weights,
                "medical": medical,
                "category": category,
                "description": "synthetic benchmark entry",
                "created_at": BASE_TIME,
            }
        )
        skill = rng.uniform(10, 80)
        for t, track in enumerate(Track):
            n = len(submission_rows)
            sub_id, run_id = start_sub + n + 1, start_run + n + 1
            when = BASE_TIME + timedelta(minutes=i * 4 + t)
            score = max(0.0, min(100.0, skill + rng.gauss(0, 8)))
            half = rng.uniform(2, 6)
            config = configs[track]
            submission_rows.append(
                {
                    "id": sub_id,
                    "model_id": model_id,
                    "track": track.value,
                    "gold_version_id": gold,
                    "file_sha256": hashlib.sha256(f"{i}/{track}".encode()).hexdigest(),
                    "filename": f"{track.value}.jsonl",
                    "size_bytes": 1000,
                    "state": "accepted",
                    "errors": [],
                    "error_count": 0,
                    "answered": items,
                    "total_items": items,
                    "uploaded_by": "bench",
                    "published": True,
                    "pinned": False,
                    "created_at": when,
                }
            )
            run_rows.append(
                {
                    "id": run_id,
                    "submission_id": sub_id,
                    "rubric_version": config.rubric_version,
                    "judge_model_id": config.judge_model_id,
                    "status": RunStatus.SCORED.value,
                    "attempt": 1,
                    "items_total": items,
                    "items_done": items,
                    "judge_errors": 0,
                    "cache_hits": 0,
                    "judge_calls": items,
                    "created_at": when,
                    "finished_at": when,
                }
            )
            aggregate_rows.append(
                {
                    "run_id": run_id,
                    "score": score,
                    "f1": max(0.0, min(100.0, score + rng.gauss(5, 5)))
                    if track == Track.T1
                    else None,
                    "dimension_means": {"overall": score},
                    "ci_low": max(0.0, score - half),
                    "ci_high": min(100.0, score + half),
                    "item_count": items,
                    "answered_count": items,
                    "judge_error_count": 0,
                    "truncated_count": 0,
                    "computed_at": when + timedelta(minutes=5),
                }
            )
    for table, rows in (
        (Model, model_rows),
        (Submission, submission_rows),
        (EvaluationRun, run_rows),
        (RunAggregate, aggregate_rows),
    ):
        for chunk in range(0, len(rows), 1000):
            await session.execute(insert(table), rows[chunk : chunk + 1000])
    await _reset_sequences(session)
    return {"models": len(model_rows), "runs": len(run_rows)}


async def _reset_sequences(session: AsyncSession) -> None:
    """Explicit ids were inserted: move PostgreSQL's id sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("models", "submissions", "evaluation_runs"):
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


async def seed_item_scores(
    session: AsyncSession, run_id: int, scores: Sequence[float], track: Track
) -> None:
    """Item rows for one run (the benchmark gives the compared peaks real items to pair)."""
    rows = [
        {
            "run_id": run_id,
            "item_id": f"{track.value}-{index:05d}",
            "item_score": value,
            "missing": False,
            "truncated": False,
            "cached": False,
            "attempts": 1,
            "latency_ms": 0.0,
            "updated_at": BASE_TIME,
        }
        for index, value in enumerate(scores)
    ]
    await session.execute(insert(ItemResult), rows)


# --------------------------------------------------------------------------------------------
# A small world with hand-checkable numbers (tests, the browser test, screenshots)
# --------------------------------------------------------------------------------------------

T1_DIMENSIONS = ("exact_match", "disease_category", "diagnostic_specificity")

# name → (open weights, medical, category)
SMALL_WORLD_MODELS: dict[str, tuple[bool, bool, str]] = {
    "Alpha-General": (True, False, "general"),
    "Beta-Closed": (False, False, "general"),
    "Gamma-Med": (True, True, "medical"),
    "Delta-Unified": (True, True, "medical_unified"),
}

# name → track → (score, ci_low, ci_high); see tests/web/test_leaderboard.py for the sums.
SMALL_WORLD_SCORES: dict[str, dict[Track, tuple[float, float, float]]] = {
    "Alpha-General": {
        Track.T1: (60.0, 52.0, 68.0),
        Track.T2: (40.0, 32.0, 48.0),
        Track.T3: (50.0, 42.0, 58.0),
        Track.T4: (70.0, 66.0, 82.0),
    },
    "Beta-Closed": {
        Track.T1: (70.0, 68.0, 72.0),
        Track.T2: (45.0, 43.0, 47.0),
        Track.T3: (65.0, 63.0, 67.0),
        Track.T4: (80.0, 78.0, 82.0),
    },
    "Gamma-Med": {
        Track.T1: (58.0, 50.0, 66.0),
        Track.T2: (20.0, 15.0, 25.0),
        Track.T3: (30.0, 25.0, 35.0),
        Track.T4: (75.0, 70.0, 80.0),
    },
    "Delta-Unified": {
        Track.T1: (40.0, 35.0, 45.0),
        Track.T2: (15.0, 10.0, 20.0),
    },
}
SMALL_WORLD_F1 = {"Alpha-General": 70.0, "Beta-Closed": 75.0, "Gamma-Med": 60.0}
SMALL_WORLD_F1["Delta-Unified"] = 45.0
SMALL_WORLD_T1_DIMENSIONS = {
    "Alpha-General": (50.0, 80.0, 70.0),
    "Beta-Closed": (60.0, 90.0, 85.0),
    "Gamma-Med": (45.0, 85.0, 65.0),
    "Delta-Unified": (30.0, 60.0, 50.0),
}
SMALL_WORLD_T1_ITEMS = 50  # Alpha and Gamma also get item rows on T1 (30 and 29 of 50 right)


async def seed_small_world(session: AsyncSession) -> dict[str, int]:
    """Four judged models with the numbers above; returns submission ids worth naming.

    Alpha-General's T2 row comes from a pinned submission (40.0) although a later published one
    (44.0) and a later unpublished one (99.0) exist. Alpha and Gamma have T1 item rows, so the
    T1 gap between them gets a paired interval.
    """
    ids: dict[str, int] = {}
    for name, (open_weights, medical, category) in SMALL_WORLD_MODELS.items():
        await ensure_model(
            session,
            ModelSpec(
                name,
                open_weights=open_weights,
                medical=medical,
                category=category,
                organisation=f"{name.split('-')[0]} Lab",
                description=f"{name}: a fixture model for the leaderboard tests",
                parameter_count=7_000_000_000,
                url="https://example.org/" + name.lower(),
            ),
        )
    for m, (name, tracks) in enumerate(SMALL_WORLD_SCORES.items()):
        for t, (track, (score, low, high)) in enumerate(tracks.items()):
            items = SMALL_WORLD_T1_ITEMS if track == Track.T1 else 20
            item_scores: list[float | None] | None = None
            if track == Track.T1 and name in ("Alpha-General", "Gamma-Med"):
                right = round(score / 100 * items)
                ones: list[float | None] = [1.0] * right
                item_scores = ones + [0.0] * (items - right)
            dims: dict[str, float] = {}
            if track == Track.T1:
                dims = dict(zip(T1_DIMENSIONS, SMALL_WORLD_T1_DIMENSIONS[name], strict=True))
            submission, _ = await add_judged(
                session,
                JudgedSpec(
                    model=name,
                    track=track,
                    score=score,
                    ci=(low, high),
                    f1=SMALL_WORLD_F1[name] if track == Track.T1 else None,
                    dimension_means=dims,
                    item_count=items,
                    answered=items - 2 if name == "Gamma-Med" else items,
                    submitted_at=BASE_TIME + timedelta(hours=m, minutes=t),
                    pinned=name == "Alpha-General" and track == Track.T2,
                    item_scores=item_scores,
                ),
            )
            ids[f"{name}/{track.value}"] = submission
    later = BASE_TIME + timedelta(days=2)
    ids["Alpha-General/T2/later"], _ = await add_judged(
        session, JudgedSpec("Alpha-General", Track.T2, 44.0, ci=(36.0, 52.0), submitted_at=later)
    )
    ids["Alpha-General/T2/private"], _ = await add_judged(
        session,
        JudgedSpec(
            "Alpha-General",
            Track.T2,
            99.0,
            ci=(98.0, 100.0),
            submitted_at=later + timedelta(hours=1),
            published=False,
        ),
    )
    return ids
