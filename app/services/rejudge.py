"""Rejudging a track: new evaluation runs under a target rubric and judge, then one switch.

Lifecycle (one transition table, applied as compare-and-set on `rejudges.status`):

    running ──► completed   every run scored; the track's active pair moved to the target in the
       │                    same transaction (or already was the target: nothing to switch)
       ├──────► failed      finished without switching; `error` says why (judge-error share
       │                    above the threshold, runs that did not score, the active pair changed
       │                    meanwhile, or named submissions that leave others unscored)
       └──────► cancelled   its queued and judging runs were cancelled (stored items are kept)
    cancelled, failed ──► running   (resume: cancelled and failed runs are re-queued)

The database drives it, never one job's memory. `advance` — under a row lock on the rejudge —
creates the next runs (at most `rejudge_window` rejudge runs are queued or judging at once, so
uploads keep job slots), and when every target has a finished run, performs the finish and the
switch. It is called when the rejudge starts or resumes, by the job that finishes any rejudge
run (`after_run`), and periodically by `tick` (arq cron, and the in-process reaper loop), so a
worker killed at any point only delays it: the reaper re-enqueues its lost runs, `tick` the rest.

The cache makes a rejudge cheap: a request the new rubric leaves unchanged is answered from the
shared judge cache without a judge call. The leaderboard shows only runs under each track's active
pair, so until the switch it keeps showing the old scores.
"""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.base import utcnow
from app.db.models import EvaluationRun, Rejudge, RejudgeStatus, Submission, SubmissionState
from app.errors import Conflict, InvalidInput, NotFound
from app.judge import STANDIN_MODEL
from app.queue import WORKER_MAX_JOBS
from app.repositories import judging as judging_repo
from app.repositories import rejudge as rejudge_repo
from app.repositories import runs as runs_repo
from app.repositories.rows import add_row
from app.runs import ACTIVE, RunStatus
from app.runtime import Runtime
from app.services.audit import record_event
from app.services.configuration import ActivePair, active_pair, load_rubric
from app.services.diffs import RejudgeDiff, compute_diff
from app.services.reaper import requeue
from app.services.rubrics import resolve_version
from app.tracks import Track
from app.unit_of_work import transaction, unit_of_work

log = logging.getLogger(__name__)

Job = tuple[int, int]  # (run id, attempt): enqueue after commit
SYSTEM_ACTOR = "system"


TRANSITIONS: dict[RejudgeStatus, frozenset[RejudgeStatus]] = {
    RejudgeStatus.RUNNING: frozenset(
        {RejudgeStatus.COMPLETED, RejudgeStatus.FAILED, RejudgeStatus.CANCELLED}
    ),
    RejudgeStatus.CANCELLED: frozenset({RejudgeStatus.RUNNING}),
    RejudgeStatus.FAILED: frozenset({RejudgeStatus.RUNNING}),
    RejudgeStatus.COMPLETED: frozenset(),
}
FINISHED = frozenset({RejudgeStatus.COMPLETED, RejudgeStatus.FAILED})
_ACTIVE_RUNS = frozenset(s.value for s in ACTIVE)
_RETRYABLE_RUNS = (RunStatus.CANCELLED, RunStatus.FAILED)


@dataclass(frozen=True)
class RejudgeRequest:
    """What a maintainer may ask for; every field but the track is optional."""

    track: Track
    rubric: str | None = None  # a version or a unique prefix; default: the track's active one
    judge_model: str | None = None  # default: the track's active judge model
    submission_ids: tuple[int, ...] = ()  # default: every scored submission of the track
    max_error_share: float | None = None  # default: REJUDGE_MAX_ERROR_SHARE


@dataclass(frozen=True)
class Started:
    rejudge: Rejudge
    jobs: list[Job]


@dataclass(frozen=True)
class RejudgeProgress:
    submissions_total: int
    submissions_started: int  # have a run of this rejudge
    submissions_done: int  # that run finished (scored or failed)
    submissions_scored: int
    submissions_failed: int
    runs_active: int
    items_total: int
    items_done: int
    judge_errors: int
    cache_hits: int
    judge_calls: int

    @property
    def fraction(self) -> float:
        return self.items_done / self.items_total if self.items_total else 1.0


@dataclass(frozen=True)
class RejudgeView:
    rejudge: Rejudge
    judge_model: str
    from_judge_model: str | None
    progress: RejudgeProgress
    runs: list[EvaluationRun]

    @property
    def status(self) -> str:
        return self.rejudge.status

    @property
    def finished(self) -> bool:
        return self.rejudge.status in FINISHED


def rejudge_window(settings: Settings) -> int:
    """How many rejudge runs may be queued or judging at once: the rejudge share of one
    process's job slots (at least one), so new submissions always find a free slot."""
    slots = WORKER_MAX_JOBS if settings.uses_arq else settings.inprocess_max_runs
    return max(1, math.floor(settings.rejudge_judge_share * slots))


def _check(current: RejudgeStatus, target: RejudgeStatus, rejudge_id: int) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(f"rejudge {rejudge_id} is {current}; it cannot become {target}")


async def _transition(
    session: AsyncSession, rejudge: Rejudge, target: RejudgeStatus, **fields: object
) -> None:
    _check(rejudge.status, target, rejudge.id)
    if not await rejudge_repo.transition(session, rejudge.id, rejudge.status, target, **fields):
        raise Conflict(f"rejudge {rejudge.id} changed meanwhile; look at it again")


async def _audit(
    session: AsyncSession, rejudge: Rejudge, step: str, *, actor: str, details: dict[str, object]
) -> None:
    """Audit one step of a rejudge (`rejudge.<step>`): every event names it and its track."""
    await record_event(
        session,
        actor=actor,
        action=f"rejudge.{step}",
        target=f"rejudge:{rejudge.id}",
        details={"track": rejudge.track, **details},
    )


# --- starting, cancelling, resuming --------------------------------------------------------


async def start_rejudge(
    session: AsyncSession, settings: Settings, request: RejudgeRequest, *, actor: str
) -> Started:
    track = request.track
    pair = await active_pair(session, track)
    if request.rubric:
        rubric_version = (await resolve_version(session, request.rubric, track=track)).version
    else:
        rubric_version = pair.rubric_version
    await load_rubric(session, rubric_version)  # a stored version that no longer parses fails here
    if request.judge_model and request.judge_model.strip() != pair.judge_model:
        name = request.judge_model.strip()
        judge = await judging_repo.get_judge_model_by_name(session, name)
        if judge is None:
            judge = await judging_repo.ensure_judge_model(
                session, name, is_reference=name == STANDIN_MODEL
            )
        judge_model_id, judge_name = judge.id, judge.name
    else:
        judge_model_id, judge_name = pair.judge_model_id, pair.judge_model
    share = (
        settings.rejudge_max_error_share
        if request.max_error_share is None
        else request.max_error_share
    )
    if not 0.0 <= share <= 1.0:
        raise InvalidInput(f"max_error_share must be between 0 and 1, got {share}")
    await _refuse_second_running(session, track)
    named = await _named_submissions(session, track, request.submission_ids)
    rejudge = await add_row(
        session,
        Rejudge(
            track=track.value,
            rubric_version=rubric_version,
            judge_model_id=judge_model_id,
            status=RejudgeStatus.RUNNING,
            created_by=actor,
            max_error_share=share,
            switched=False,
            from_rubric_version=pair.rubric_version,
            from_judge_model_id=pair.judge_model_id,
            submission_ids=named,
        ),
    )
    await _audit(
        session,
        rejudge,
        "start",
        actor=actor,
        details={
            "rubric_version": rubric_version,
            "judge_model": judge_name,
            "from_rubric_version": pair.rubric_version,
            "from_judge_model": pair.judge_model,
            "submission_ids": named,
            "max_error_share": share,
        },
    )
    jobs = await advance(session, settings, rejudge.id)
    refreshed = await rejudge_repo.get(session, rejudge.id)
    assert refreshed is not None
    return Started(refreshed, jobs)


async def _refuse_second_running(
    session: AsyncSession, track: Track, *, other_than: int | None = None
) -> None:
    await rejudge_repo.lock_track(session, track)  # two starts of one track: one at a time
    for running in await rejudge_repo.with_status(session, [RejudgeStatus.RUNNING]):
        if running.track == track.value and running.id != other_than:
            raise Conflict(
                f"rejudge {running.id} of {track} is still running; wait for it or cancel it "
                f"(`mmrare rejudge cancel {running.id}`)"
            )


async def _named_submissions(
    session: AsyncSession, track: Track, ids: Sequence[int]
) -> list[int] | None:
    if not ids:
        return None
    wanted = sorted(set(ids))
    found = {s.id: s for s in await rejudge_repo.submissions_by_ids(session, wanted)}
    problems: list[str] = []
    for sid in wanted:
        submission = found.get(sid)
        if submission is None:
            problems.append(f"submission {sid} does not exist")
        elif submission.track != track.value:
            problems.append(f"submission {sid} is a {submission.track} submission, not {track}")
        elif submission.state != SubmissionState.ACCEPTED:
            problems.append(f"submission {sid} was rejected: it has nothing to judge")
    if problems:
        raise InvalidInput(f"cannot rejudge the named submissions of {track}", details=problems)
    return wanted


async def cancel_rejudge(session: AsyncSession, rejudge_id: int, *, actor: str) -> Rejudge:
    """Stop a running rejudge: its queued and judging runs are cancelled (a judging job stops at
    its next batch; stored items are kept for a resume). The board is untouched."""
    rejudge = await _locked(session, rejudge_id)
    await _transition(session, rejudge, RejudgeStatus.CANCELLED, finished_at=utcnow())
    cancelled: list[int] = []
    for run in await rejudge_repo.runs_of(session, rejudge.id):
        if await _cancel_run(session, run, rejudge.id):
            cancelled.append(run.id)
    await _audit(session, rejudge, "cancel", actor=actor, details={"cancelled_runs": cancelled})
    return rejudge


async def _cancel_run(session: AsyncSession, run: EvaluationRun, rejudge_id: int) -> bool:
    status = run.status
    for _ in range(3):  # a queued run may be claimed (queued → judging) while we look
        if status not in _ACTIVE_RUNS:
            return False
        if await runs_repo.transition(
            session,
            run.id,
            status,
            RunStatus.CANCELLED,
            error=f"cancelled with rejudge {rejudge_id}",
            finished_at=utcnow(),
        ):
            return True
        fresh = await session.get(EvaluationRun, run.id, populate_existing=True)
        status = fresh.status if fresh else RunStatus.SCORED
    return False


async def resume_rejudge(
    session: AsyncSession, settings: Settings, rejudge_id: int, *, actor: str
) -> Started:
    """Carry on with a cancelled or failed rejudge: its cancelled and failed runs go back to the
    queue (keeping their stored items), then it advances as before."""
    rejudge = await _locked(session, rejudge_id)
    await _refuse_second_running(session, Track(rejudge.track), other_than=rejudge.id)
    await _transition(
        session, rejudge, RejudgeStatus.RUNNING, error=None, finished_at=None, diff=None
    )
    jobs: list[Job] = []
    for run in await rejudge_repo.runs_of(session, rejudge.id):
        for expected in _RETRYABLE_RUNS:
            if run.status == expected:
                attempt = await requeue(session, run.id, expected)
                if attempt is not None:
                    jobs.append((run.id, attempt))
    requeued = [run_id for run_id, _ in jobs]
    await _audit(session, rejudge, "resume", actor=actor, details={"requeued_runs": requeued})
    jobs += await advance(session, settings, rejudge.id)
    return Started(rejudge, jobs)


async def _locked(session: AsyncSession, rejudge_id: int) -> Rejudge:
    rejudge = await rejudge_repo.lock(session, rejudge_id)
    if rejudge is None:
        raise NotFound(f"rejudge {rejudge_id} does not exist")
    return rejudge


# --- advancing and finishing ---------------------------------------------------------------


async def _targets(session: AsyncSession, rejudge: Rejudge) -> list[Submission]:
    if rejudge.submission_ids is not None:
        return await rejudge_repo.submissions_by_ids(session, rejudge.submission_ids)
    if rejudge.from_pair is None:
        return []
    # Every submission on (or on its way to) the board it started from, new uploads included.
    return await rejudge_repo.submissions_on_board(
        session, Track(rejudge.track), *rejudge.from_pair
    )


async def advance(session: AsyncSession, settings: Settings, rejudge_id: int) -> list[Job]:
    """Take the rejudge's next step under its row lock; returns runs to enqueue after commit."""
    rejudge = await rejudge_repo.lock(session, rejudge_id)
    if rejudge is None or rejudge.status != RejudgeStatus.RUNNING:
        return []
    targets = await _targets(session, rejudge)
    runs = await rejudge_repo.runs_of(session, rejudge.id)
    has_run = {run.submission_id for run in runs}
    waiting = [s for s in targets if s.id not in has_run]
    if waiting:
        free = rejudge_window(settings) - await rejudge_repo.active_rejudge_runs(session)
        jobs: list[Job] = []
        for submission in waiting[: max(free, 0)]:
            run = await runs_repo.add(
                session, submission, *rejudge.target_pair, rejudge_id=rejudge.id
            )
            jobs.append((run.id, run.attempt))
        return jobs
    if any(run.status in _ACTIVE_RUNS for run in runs):
        return []
    await _finish(session, rejudge, runs)
    return []


async def _finish(session: AsyncSession, rejudge: Rejudge, runs: Sequence[EvaluationRun]) -> None:
    """Every target has a finished run: switch the track in this transaction, or say why not."""
    track = Track(rejudge.track)
    errors, judged = await rejudge_repo.error_counts(session, [run.id for run in runs])
    share = errors / judged if judged else 0.0
    pair = await active_pair(session, track)
    target = rejudge.target_pair
    reason = await _why_not_switch(session, rejudge, runs, errors, judged, share, pair)
    switch = reason is None and (pair.rubric_version, pair.judge_model_id) != target
    if switch:
        await judging_repo.set_track_config(session, track, *target)
    status = RejudgeStatus.COMPLETED if reason is None else RejudgeStatus.FAILED
    diff: RejudgeDiff | None = None
    if any(run.status == RunStatus.SCORED for run in runs):
        diff = await compute_diff(session, rejudge)
    await _transition(
        session,
        rejudge,
        status,
        switched=switch,
        error=reason,
        finished_at=utcnow(),
        diff=diff.to_json() if diff else None,
    )
    await _audit(
        session,
        rejudge,
        "switch" if switch else "finish",
        actor=SYSTEM_ACTOR,
        details={
            "status": status.value,
            "switched": switch,
            "rubric_version": rejudge.rubric_version,
            "judge_model_id": rejudge.judge_model_id,
            "runs": len(runs),
            "judge_errors": errors,
            "judged_items": judged,
            "reason": reason,
        },
    )
    log.info("rejudge %s of %s finished: %s (switched: %s)", rejudge.id, track, status, switch)


async def _why_not_switch(
    session: AsyncSession,
    rejudge: Rejudge,
    runs: Sequence[EvaluationRun],
    errors: int,
    judged: int,
    share: float,
    pair: ActivePair,
) -> str | None:
    track = Track(rejudge.track)
    unscored = [run for run in runs if run.status != RunStatus.SCORED]
    if unscored:
        listed = ", ".join(f"run {r.id} ({r.status})" for r in unscored[:10])
        return (
            f"{len(unscored)} of {len(runs)} runs did not score ({listed}); the board keeps the "
            "old scores — resume the rejudge to retry them"
        )
    if share > rejudge.max_error_share:
        return (
            f"judge errors on {errors} of {judged} judged items ({share:.1%}) exceed the allowed "
            f"{rejudge.max_error_share:.1%}; the board keeps the old scores — check the judge, "
            "then start a new rejudge (errors are never cached: only those items are judged again)"
        )
    target = rejudge.target_pair
    current = (pair.rubric_version, pair.judge_model_id)
    if current == target:
        return None  # nothing to switch
    if current != rejudge.from_pair:
        return (
            f"the track's active rubric or judge changed while the rejudge ran (now rubric "
            f"{pair.rubric_version[:12]}, judge {pair.judge_model}); not switching over that — "
            f"activate rubric {rejudge.rubric_version[:12]} yourself if it is still wanted"
        )
    board = await rejudge_repo.submissions_on_board(
        session, track, pair.rubric_version, pair.judge_model_id
    )
    scored = await rejudge_repo.scored_runs_under_pair(session, [s.id for s in board], *target)
    missing = [s.id for s in board if s.id not in scored]
    if missing:
        return (
            f"{len(missing)} {track} submissions on the board have no score under the new rubric "
            f"and judge (e.g. {', '.join(map(str, missing[:10]))}), so the track was not "
            "switched — rejudge the whole track to switch it"
        )
    return None


# --- jobs and the periodic check ------------------------------------------------------------


async def after_run(runtime: Runtime, run_id: int) -> None:
    """Called by the job that judged `run_id`: a finished rejudge run frees a window slot and may
    be its rejudge's last, so rejudges advance (this run's first)."""
    async with transaction(runtime.sessions) as session:
        run = await runs_repo.get(session, run_id)
        if run is None or run.rejudge_id is None or run.status in _ACTIVE_RUNS:
            return
        first = run.rejudge_id
    await tick(runtime, first=first, sweep=False)


async def tick(
    runtime: Runtime,
    *,
    first: int | None = None,
    sweep: bool = True,
) -> list[Job]:
    """Advance every running rejudge, each in its own short transaction, then enqueue what they
    created. With `sweep`, also give a run under the active pair to any submission that a switch
    raced past (see `_stragglers`). Returns the enqueued jobs."""
    async with transaction(runtime.sessions) as session:
        running = [r.id for r in await rejudge_repo.with_status(session, [RejudgeStatus.RUNNING])]
    if first in running:
        running.remove(first)
        running.insert(0, first)
    jobs: list[Job] = []
    for rejudge_id in running:
        async with unit_of_work(runtime.sessions, runtime.queue) as uow:
            uow.enqueue_runs(await advance(uow.session, runtime.settings, rejudge_id))
        jobs += uow.jobs
    if sweep:
        async with unit_of_work(runtime.sessions, runtime.queue) as uow:
            uow.enqueue_runs(await _stragglers(uow.session))
        jobs += uow.jobs
    return jobs


async def _stragglers(session: AsyncSession) -> list[Job]:
    """A submission whose upload read the old active pair but committed just after a switch has
    a run only under the old pair and would be missing from the new board: give it a run under
    the active pair. (Runs only for tracks whose last switch is still in force.)"""
    jobs: list[Job] = []
    for track in Track:
        last = await rejudge_repo.last_switched(session, track)
        if last is None or last.from_pair is None:
            continue
        pair = await active_pair(session, track)
        if (pair.rubric_version, pair.judge_model_id) != last.target_pair:
            continue
        old_board = await rejudge_repo.submissions_on_board(session, track, *last.from_pair)
        covered = await rejudge_repo.submissions_with_run_under_pair(
            session, [s.id for s in old_board], pair.rubric_version, pair.judge_model_id
        )
        for submission in old_board:
            if submission.id in covered:
                continue
            run = await runs_repo.add(session, submission, pair.rubric_version, pair.judge_model_id)
            log.info(
                "submission %s missed the %s switch: judging it as run %s",
                submission.id,
                track,
                run.id,
            )
            jobs.append((run.id, run.attempt))
    return jobs


# --- reading -------------------------------------------------------------------------------


async def rejudge_view(session: AsyncSession, rejudge_id: int) -> RejudgeView:
    rejudge = await rejudge_repo.get(session, rejudge_id)
    if rejudge is None:
        raise NotFound(f"rejudge {rejudge_id} does not exist")
    return await _view(session, rejudge)


async def list_rejudges(session: AsyncSession, limit: int = 50) -> list[RejudgeView]:
    return [await _view(session, r) for r in await rejudge_repo.recent(session, limit)]


async def _view(session: AsyncSession, rejudge: Rejudge) -> RejudgeView:
    runs = await rejudge_repo.runs_of(session, rejudge.id)
    latest: dict[int, EvaluationRun] = {run.submission_id: run for run in runs}
    if rejudge.status in FINISHED:
        waiting: list[Submission] = []
    else:
        waiting = [s for s in await _targets(session, rejudge) if s.id not in latest]
    finished = [r for r in latest.values() if r.status not in _ACTIVE_RUNS]
    progress = RejudgeProgress(
        submissions_total=len(latest) + len(waiting),
        submissions_started=len(latest),
        submissions_done=sum(
            1 for r in finished if r.status in (RunStatus.SCORED, RunStatus.FAILED)
        ),
        submissions_scored=sum(1 for r in finished if r.status == RunStatus.SCORED),
        submissions_failed=sum(1 for r in finished if r.status == RunStatus.FAILED),
        runs_active=sum(1 for r in latest.values() if r.status in _ACTIVE_RUNS),
        items_total=sum(r.items_total for r in latest.values())
        + sum(s.total_items for s in waiting),
        items_done=sum(min(r.items_done, r.items_total) for r in latest.values()),
        judge_errors=sum(r.judge_errors for r in latest.values()),
        cache_hits=sum(r.cache_hits for r in latest.values()),
        judge_calls=sum(r.judge_calls for r in latest.values()),
    )
    judge = await judging_repo.get_judge_model(session, rejudge.judge_model_id)
    from_judge = (
        await judging_repo.get_judge_model(session, rejudge.from_judge_model_id)
        if rejudge.from_judge_model_id is not None
        else None
    )
    return RejudgeView(
        rejudge=rejudge,
        judge_model=judge.name if judge else "?",
        from_judge_model=from_judge.name if from_judge else None,
        progress=progress,
        runs=runs,
    )


async def rejudge_diff(session: AsyncSession, rejudge_id: int) -> RejudgeDiff:
    """The stored diff of a finished rejudge (computed now if it was never stored)."""
    rejudge = await rejudge_repo.get(session, rejudge_id)
    if rejudge is None:
        raise NotFound(f"rejudge {rejudge_id} does not exist")
    if rejudge.status not in FINISHED:
        raise Conflict(
            f"rejudge {rejudge_id} is {rejudge.status}: its diff is available once it has finished"
        )
    if rejudge.diff:
        return RejudgeDiff.from_json(rejudge.diff)
    return await compute_diff(session, rejudge)
