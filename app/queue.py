"""The job queue: a doorbell, not the ledger. The database says what needs work.

Job ids are derived from (run, attempt), so one attempt of a run is never queued twice; the
attempt is bumped whenever a run is handed to a new job, which fences off any older job.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from arq.connections import ArqRedis
from arq.constants import default_queue_name, in_progress_key_prefix
from arq.jobs import Job, JobStatus

log = logging.getLogger(__name__)

JUDGE_RUN_JOB = "judge_run"

# Runs one arq worker process judges at once (its arq `max_jobs`). Rejudges take at most
# REJUDGE_JUDGE_SHARE of these slots (app.services.rejudge.rejudge_window), so uploads keep some.
WORKER_MAX_JOBS = 4


RUN_JOB_ID_PREFIX = "run-"


def run_job_id(run_id: int, attempt: int) -> str:
    return f"{RUN_JOB_ID_PREFIX}{run_id}-attempt-{attempt}"


class JobQueue(Protocol):
    async def enqueue_run(self, run_id: int, attempt: int) -> None: ...

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        """True while the job for this attempt is waiting or running."""
        ...

    async def depth(self) -> int:
        """Judge runs waiting to start (the metric `mmrare_queue_depth`)."""
        ...


class ArqQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis
        self._waiting_jobs = redis.register_script(_WAITING_JOBS)

    async def enqueue_run(self, run_id: int, attempt: int) -> None:
        job = await self.redis.enqueue_job(
            JUDGE_RUN_JOB, run_id, attempt, _job_id=run_job_id(run_id, attempt)
        )
        if job is None:
            log.info("run %s attempt %s is already queued", run_id, attempt)

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        status = await Job(run_job_id(run_id, attempt), self.redis).status()
        return status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)

    async def depth(self) -> int:
        waiting = await self._waiting_jobs(
            keys=[default_queue_name], args=[in_progress_key_prefix, RUN_JOB_ID_PREFIX]
        )
        return int(waiting)


# Judge runs waiting to start. arq keeps a job in its sorted set until the job returns, so
# running ones (holding an in-progress key) are left out; so is the workers' maintenance cron,
# which arq adds ahead of its beat. One script, so a job finishing between the reads is not
# counted as waiting.
_WAITING_JOBS = """
local waiting = 0
for _, job_id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if string.sub(job_id, 1, #ARGV[2]) == ARGV[2]
        and redis.call('EXISTS', ARGV[1] .. job_id) == 0 then
        waiting = waiting + 1
    end
end
return waiting
"""


RunExecutor = Callable[[int, int], Awaitable[object]]


class InProcessQueue:
    """Runs jobs as tasks of the serving process, through the same job function as arq."""

    def __init__(self, execute: RunExecutor, max_concurrent: int) -> None:
        self._execute = execute
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = 0  # jobs holding a slot

    async def enqueue_run(self, run_id: int, attempt: int) -> None:
        job_id = run_job_id(run_id, attempt)
        if job_id in self._tasks:
            return
        self._tasks[job_id] = asyncio.create_task(self._run(job_id, run_id, attempt))

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        return run_job_id(run_id, attempt) in self._tasks

    async def depth(self) -> int:
        return len(self._tasks) - self._started

    async def _run(self, job_id: str, run_id: int, attempt: int) -> None:
        try:
            async with self._slots:
                self._started += 1
                try:
                    await self._execute(run_id, attempt)
                finally:
                    self._started -= 1
        except Exception:
            log.exception("in-process job %s failed", job_id)
        finally:
            self._tasks.pop(job_id, None)

    async def drain(self) -> None:
        """Wait for every queued job (used by `--smoke` and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
