"""The unit of work: one database transaction plus the jobs it asks for.

A request, a command or one batch of a job is one unit of work. Code inside it changes rows
through `uow.session` (repositories and services only flush) and records the runs it wants
judged with `uow.enqueue_run(run_id, attempt)`. The edge that opened it commits once; only when
that commit succeeds is every recorded job sent to the queue. A unit of work that raises, or
whose commit fails, is rolled back and sends nothing.

This module is the only place that commits (tests/unit/test_unit_of_work.py checks).
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.queue import JobQueue

Job = tuple[int, int]  # (run id, attempt)


class NoQueue(RuntimeError):
    """Jobs were recorded in a unit of work that was opened without a queue to send them to."""


class UnitOfWork:
    """The session of one unit of work and the jobs to send once it is committed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._jobs: list[Job] = []

    def enqueue_run(self, run_id: int, attempt: int) -> None:
        """Ask for this attempt of the run to be judged once the unit of work commits."""
        job = (run_id, attempt)
        if job not in self._jobs:
            self._jobs.append(job)

    def enqueue_runs(self, jobs: Iterable[Job]) -> None:
        for run_id, attempt in jobs:
            self.enqueue_run(run_id, attempt)

    async def discard(self) -> None:
        """Roll back everything so far, recorded jobs included; the unit of work goes on (a
        retry, or an error page that reads the state as it was)."""
        await self.session.rollback()
        self._jobs.clear()

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(self._jobs)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], queue: JobQueue | None = None
) -> AsyncIterator[UnitOfWork]:
    """Open a unit of work; on leaving, commit once and then send its jobs to `queue`.

    An exception inside (or from the commit) rolls everything back and sends no job."""
    async with sessions() as session:
        uow = UnitOfWork(session)
        try:
            yield uow
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    await send_jobs(queue, uow.jobs)


async def send_jobs(queue: JobQueue | None, jobs: Iterable[Job]) -> None:
    """Ring the doorbell for committed runs. (If this fails, the reaper finds the runs.)"""
    jobs = list(jobs)
    if not jobs:
        return
    if queue is None:
        raise NoQueue(f"{len(jobs)} job(s) recorded in a unit of work opened without a queue")
    for run_id, attempt in jobs:
        await queue.enqueue_run(run_id, attempt)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work that enqueues nothing, handing out just its session."""
    async with unit_of_work(sessions) as uow:
        yield uow.session
