"""What a rejudge changed: per submission old vs new score, dimension means, rank, items.

The "old" run of a submission is its newest scored run under the pair the board showed when the
rejudge started (runs of the rejudge itself left out); the "new" run is the rejudge's. Ranks are
positions among the rejudge's published submissions, one per model (its pinned submission, else
its newest), by score descending with ties to the earlier submission — what the track's board
would show of them; reported entries are not part of a diff since they are never rejudged.

The diff reads item rows, which is fine for a maintainer page; it is computed once when the
rejudge finishes and stored on the rejudge as JSON.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import EvaluationRun, Rejudge, RunAggregate, Submission
from app.repositories import judging as judging_repo
from app.repositories import rejudge as rejudge_repo
from app.repositories.rejudge import ItemSnapshot
from app.runs import RunStatus

LARGEST_MOVERS = 5


@dataclass(frozen=True)
class Side:
    """One run of one submission, as a diff needs it."""

    run_id: int
    score: float
    dimension_means: Mapping[str, float]
    items: Mapping[str, ItemSnapshot]


@dataclass(frozen=True)
class DiffInput:
    submission_id: int
    model: str
    published: bool
    pinned: bool
    submitted_at: datetime
    old: Side | None
    new: Side | None


@dataclass(frozen=True)
class SubmissionDiff:
    submission_id: int
    model: str
    published: bool
    old_run_id: int | None
    new_run_id: int | None
    old_score: float | None
    new_score: float | None
    delta: float | None  # new − old, points on 0–100
    old_dimension_means: dict[str, float]
    new_dimension_means: dict[str, float]
    old_rank: int | None
    new_rank: int | None
    rank_change: int | None  # positive: moved up the board
    items_compared: int
    items_changed: int


@dataclass(frozen=True)
class RejudgeDiff:
    rejudge_id: int
    track: str
    from_rubric_version: str | None
    to_rubric_version: str
    from_judge_model: str | None
    to_judge_model: str
    entries: list[SubmissionDiff]
    largest_movers: list[int]  # submission ids, largest |delta| first
    items_compared: int
    items_changed: int
    mean_delta: float | None
    computed_at: str
    dimensions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RejudgeDiff":
        values = dict(data)
        values["entries"] = [SubmissionDiff(**entry) for entry in values.get("entries", [])]
        return cls(**values)

    def entry(self, submission_id: int) -> SubmissionDiff | None:
        return next((e for e in self.entries if e.submission_id == submission_id), None)


def judgement_changed(old: ItemSnapshot | None, new: ItemSnapshot | None) -> bool:
    """An item's judgement changed when its ratings, or whether it was judged at all, differ."""
    if old is None or new is None:
        return False
    if old.missing and new.missing:
        return False
    return (old.error, old.missing, old.ratings) != (new.error, new.missing, new.ratings)


def _ranks(rows: Sequence[DiffInput], side: str) -> dict[int, int]:
    chosen: dict[str, DiffInput] = {}
    for row in rows:
        run = getattr(row, side)
        if not row.published or run is None:
            continue
        current = chosen.get(row.model)
        if current is None or _board_key(row) > _board_key(current):
            chosen[row.model] = row
    ordered = sorted(
        chosen.values(),
        key=lambda r: (-getattr(r, side).score, r.submitted_at, r.submission_id),
    )
    return {row.submission_id: position for position, row in enumerate(ordered, start=1)}


def _board_key(row: DiffInput) -> tuple[bool, datetime, int]:
    return (row.pinned, row.submitted_at, row.submission_id)


def _items_changed(old: Side | None, new: Side | None) -> tuple[int, int]:
    """(items both runs stored, of which their judgement changed)."""
    if old is None or new is None:
        return 0, 0
    compared = changed = 0
    for item_id, new_item in new.items.items():
        old_item = old.items.get(item_id)
        if old_item is None:
            continue
        compared += 1
        changed += judgement_changed(old_item, new_item)
    return compared, changed


def _submission_diff(row: DiffInput, old_rank: int | None, new_rank: int | None) -> SubmissionDiff:
    old, new = row.old, row.new
    compared, changed = _items_changed(old, new)
    return SubmissionDiff(
        submission_id=row.submission_id,
        model=row.model,
        published=row.published,
        old_run_id=old.run_id if old else None,
        new_run_id=new.run_id if new else None,
        old_score=old.score if old else None,
        new_score=new.score if new else None,
        delta=new.score - old.score if old and new else None,
        old_dimension_means=dict(old.dimension_means) if old else {},
        new_dimension_means=dict(new.dimension_means) if new else {},
        old_rank=old_rank,
        new_rank=new_rank,
        rank_change=old_rank - new_rank if old_rank and new_rank else None,
        items_compared=compared,
        items_changed=changed,
    )


def build_diff(
    rows: Sequence[DiffInput],
    *,
    rejudge_id: int,
    track: str,
    from_rubric_version: str | None,
    to_rubric_version: str,
    from_judge_model: str | None,
    to_judge_model: str,
    dimensions: Iterable[str] = (),
    now: datetime | None = None,
) -> RejudgeDiff:
    """Pure: the diff of a rejudge from each submission's old and new run."""
    old_ranks = _ranks(rows, "old")
    new_ranks = _ranks(rows, "new")
    entries = [
        _submission_diff(row, old_ranks.get(row.submission_id), new_ranks.get(row.submission_id))
        for row in rows
    ]
    entries.sort(
        key=lambda e: (
            e.new_rank is None,
            e.new_rank or 0,
            -(e.new_score if e.new_score is not None else -1.0),
            e.submission_id,
        )
    )
    moved = [e for e in entries if e.delta is not None]
    moved.sort(key=lambda e: (-abs(e.delta or 0.0), e.submission_id))
    deltas = [e.delta for e in moved if e.delta is not None]
    return RejudgeDiff(
        rejudge_id=rejudge_id,
        track=track,
        from_rubric_version=from_rubric_version,
        to_rubric_version=to_rubric_version,
        from_judge_model=from_judge_model,
        to_judge_model=to_judge_model,
        entries=entries,
        largest_movers=[e.submission_id for e in moved[:LARGEST_MOVERS]],
        items_compared=sum(e.items_compared for e in entries),
        items_changed=sum(e.items_changed for e in entries),
        mean_delta=sum(deltas) / len(deltas) if deltas else None,
        computed_at=(now or utcnow()).isoformat(),
        dimensions=list(dimensions),
    )


async def compute_diff(session: AsyncSession, rejudge: Rejudge) -> RejudgeDiff:
    """Read the old and new runs of every submission of the rejudge and diff them."""
    runs = await rejudge_repo.runs_of(session, rejudge.id)
    new_runs: dict[int, EvaluationRun] = {}
    for run in runs:
        if run.status == RunStatus.SCORED:
            new_runs[run.submission_id] = run
    submission_ids = sorted({run.submission_id for run in runs})
    old_runs: dict[int, EvaluationRun] = {}
    if rejudge.from_pair is not None:
        old_runs = await rejudge_repo.scored_runs_under_pair(
            session, submission_ids, *rejudge.from_pair, not_of_rejudge=rejudge.id
        )
    run_ids = [r.id for r in (*old_runs.values(), *new_runs.values())]
    aggregates = await rejudge_repo.aggregates(session, run_ids)
    items = await rejudge_repo.item_snapshots(session, run_ids)
    submissions = {s.id: s for s in await rejudge_repo.submissions_by_ids(session, submission_ids)}
    models = await rejudge_repo.models_of(session, (s.model_id for s in submissions.values()))

    def side(run: EvaluationRun | None) -> Side | None:
        aggregate: RunAggregate | None = aggregates.get(run.id) if run else None
        if run is None or aggregate is None:
            return None
        return Side(run.id, aggregate.score, dict(aggregate.dimension_means), items[run.id])

    rows: list[DiffInput] = []
    for sid in submission_ids:
        submission: Submission = submissions[sid]
        rows.append(
            DiffInput(
                submission_id=sid,
                model=models[submission.model_id].name,
                published=submission.published,
                pinned=submission.pinned,
                submitted_at=submission.created_at,
                old=side(old_runs.get(sid)),
                new=side(new_runs.get(sid)),
            )
        )
    to_judge = await judging_repo.get_judge_model(session, rejudge.judge_model_id)
    from_judge = (
        await judging_repo.get_judge_model(session, rejudge.from_judge_model_id)
        if rejudge.from_judge_model_id is not None
        else None
    )
    dimensions: list[str] = []
    for row in rows:
        for run_side in (row.new, row.old):
            for name in run_side.dimension_means if run_side else ():
                if name not in dimensions:
                    dimensions.append(name)
    return build_diff(
        rows,
        rejudge_id=rejudge.id,
        track=rejudge.track,
        from_rubric_version=rejudge.from_rubric_version,
        to_rubric_version=rejudge.rubric_version,
        from_judge_model=from_judge.name if from_judge else None,
        to_judge_model=to_judge.name if to_judge else "?",
        dimensions=dimensions,
    )
