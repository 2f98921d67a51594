"""The reaper: the database, not Redis, is the ledger of what needs work.

Runs that are queued but whose job is gone get their job back; runs that are judging but whose
heartbeat went stale are handed to a new job (new attempt, so the old job is fenced off); runs
waiting for the judge whose next try is due go back to the queue (app.services.outage).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.repositories import runs as runs_repo
from app.runs import RunStatus
from app.runtime import Runtime
from app.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReapReport:
    requeued: list[tuple[int, int]]  # (run id, attempt) sent to the queue


async def reap(
    runtime: Runtime, *, orphaned: bool = False, queued_only: bool = False
) -> ReapReport:
    """Re-enqueue runs whose job is gone. `orphaned=True` says no job of an earlier process can
    still be alive (in-process mode at start-up), so heartbeats need not go stale first.
    `queued_only`: just the queued runs no job holds — what another process (a command) queued
    but could not send to this process's in-process queue."""
    queue = runtime.queue
    now = utcnow()
    stale_before = now - timedelta(seconds=runtime.settings.run_stale_after_seconds)
    async with unit_of_work(runtime.sessions, queue) as uow:
        session = uow.session
        for run in await runs_repo.active_runs(session):
            if run.status == RunStatus.WAITING:
                if run.next_try_at is not None and run.next_try_at > now:
                    continue
                attempt = await requeue(session, run.id, RunStatus.WAITING)
            elif run.status == RunStatus.QUEUED:
                if await queue.job_alive(run.id, run.attempt):
                    continue
                # A fresh attempt: the old job id may still hold an arq result key.
                attempt = await runs_repo.hand_over(session, run.id, run.attempt, stale_before=None)
            elif queued_only:
                continue
            else:
                # Judging: the heartbeat, not the queue, says whether a worker still holds it
                # (a killed worker's job looks "in progress" to arq until its timeout).
                attempt = await runs_repo.hand_over(
                    session, run.id, run.attempt, stale_before=None if orphaned else stale_before
                )
            if attempt is not None:
                log.info("reaper: re-enqueueing run %s as attempt %s", run.id, attempt)
                uow.enqueue_run(run.id, attempt)  # sent after the commit
    return ReapReport(list(uow.jobs))


async def requeue(session: AsyncSession, run_id: int, expected: RunStatus) -> int | None:
    """Put a failed, cancelled or waiting run back in the queue (stored items are kept). Returns
    the new attempt to enqueue after commit, or None if the run was no longer `expected`.
    A run woken from waiting stays in its outage spell; any other starts a new one."""
    run = await runs_repo.get(session, run_id)
    if run is None or run.status != expected:
        return None
    spell: dict[str, object] = {"next_try_at": None}
    if expected != RunStatus.WAITING:
        spell.update(outage_started_at=None, outage_waits=0)
    moved = await runs_repo.transition(
        session,
        run_id,
        expected,
        RunStatus.QUEUED,
        attempt=run.attempt,
        error=None,
        failure_kind=None,
        finished_at=None,
        started_at=None,  # judging has not started for this new attempt
        judge_errors=0,  # items that failed are retried and counted again if they fail again
        **spell,
    )
    if not moved:
        return None
    return await runs_repo.hand_over(session, run_id, run.attempt, stale_before=None)
