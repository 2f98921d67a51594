"""What every command family shares: command groups, the error type, argument types, reading a
file, and running one unit of work whose runs are enqueued after its commit.

The database, queue and service modules are imported by the commands that use them, not here:
`mmrare --help` and the client commands start without loading SQLAlchemy or arq
(tests/unit/test_cli_imports.py).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.errors import DomainError
from app.tracks import Track

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.config import Settings
    from app.queue import ArqQueue

T = TypeVar("T")
Jobs = Sequence[tuple[int, int]]

Subparsers = argparse._SubParsersAction


def add_command_group(
    subparsers: Subparsers, name: str, *, help: str, description: str | None = None
) -> Subparsers:
    """Add `mmrare NAME ACTION …`, a command that needs one of its actions; each action is added
    to the table returned, with its own handler."""
    group = subparsers.add_parser(name, help=help, description=description)
    dest = f"{name.replace('-', '_')}_command"
    return group.add_subparsers(dest=dest, required=True, metavar="ACTION")


class CommandError(Exception):
    """A failure to report on stderr with exit code 1 (no traceback)."""


def cli_actor() -> str:
    """Actions taken at the shell are attributed to the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:unknown"


def track_arg(value: str) -> Track:
    """An argparse type: a track name, in any case."""
    try:
        return Track(value.strip().upper())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a track; use one of {', '.join(t.value for t in Track)}"
        ) from None


def share_arg(value: str) -> float:
    """An argparse type: a share between 0 and 1."""
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError("give a share between 0 and 1, e.g. 0.02")
    return share


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None


def with_details(error: DomainError) -> CommandError:
    """A domain error for the shell: its message, then one line per detail (line errors)."""
    return CommandError("\n".join([error.message, *(f"  {d}" for d in error.details)]))


class CommandQueue:
    """The queue of a command: the arq workers' (connected on first use) with REDIS_URL;
    without it, runs wait for `mmrare serve`'s reaper and are only counted."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deferred = 0
        self._arq: ArqQueue | None = None

    async def enqueue_run(self, run_id: int, attempt: int) -> None:
        if not self.settings.uses_arq:
            self.deferred += 1
            return
        if self._arq is None:
            from arq import create_pool
            from arq.connections import RedisSettings

            from app.queue import ArqQueue

            redis = await create_pool(RedisSettings.from_dsn(self.settings.redis_url or ""))
            self._arq = ArqQueue(redis)
        await self._arq.enqueue_run(run_id, attempt)

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        return False  # never asked: commands only enqueue

    async def depth(self) -> int:
        return 0  # never asked: commands only enqueue

    async def close(self) -> None:
        if self._arq is not None:
            await self._arq.redis.aclose()


def run_and_enqueue(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[tuple[T, Jobs]]]
) -> T:
    """Run `work` as one unit of work; the runs it returns are enqueued after the commit."""

    from app.db.session import create_engine, create_session_factory
    from app.unit_of_work import unit_of_work

    async def run() -> T:
        engine = create_engine(settings.database_url)
        queue = CommandQueue(settings)
        try:
            async with unit_of_work(create_session_factory(engine), queue) as uow:
                result, jobs = await work(uow.session)
                uow.enqueue_runs(jobs)
        except DomainError as exc:
            if exc.details:
                raise with_details(exc) from None
            raise
        finally:
            await queue.close()
            await engine.dispose()
        if queue.deferred:
            print(
                f"{queue.deferred} run(s) queued; a running `mmrare serve` (no REDIS_URL) starts "
                "them within a second or two"
            )
        return result

    return asyncio.run(run())


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` as one unit of work against the configured database."""

    async def with_no_jobs(session: AsyncSession) -> tuple[T, Jobs]:
        return await work(session), ()

    return run_and_enqueue(settings, with_no_jobs)
