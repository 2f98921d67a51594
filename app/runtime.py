"""The long-lived parts of a process, built once at start-up and closed at shutdown: settings,
the resolved keys, the engine and its sessions, the file store, the judge client, the job queue,
the leaderboard view cache and the rejudge share of judge calls. The API process (its lifespan)
and the arq worker (its on_startup) each build one Runtime; everything else is handed it, or
the few fields it needs.

This module imports no services: start-up work that needs them (the track configuration, the
first maintenance pass) is done by the process edges after `Runtime.start`."""

import asyncio
import math
from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Keys, Settings
from app.db.session import create_engine, create_session_factory
from app.judge.client import JudgeClient
from app.queue import ArqQueue, JobQueue
from app.storage import FileStore
from app.view_cache import ViewCache


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    keys: Keys
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: FileStore
    judge_client: JudgeClient
    queue: JobQueue
    view_cache: ViewCache
    rejudge_slots: asyncio.Semaphore  # judge calls of rejudge runs (see rejudge_judge_slots)

    @classmethod
    async def start(cls, settings: Settings, keys: Keys, queue: JobQueue) -> "Runtime":
        """`keys` come from `settings.resolve_keys()`, called by the edge before it opens
        anything, so a refused SECRET_KEY stops start-up with nothing to close."""
        engine = create_engine(settings.database_url)
        return cls(
            settings=settings,
            keys=keys,
            engine=engine,
            sessions=create_session_factory(engine),
            store=FileStore(settings.storage_dir),
            judge_client=build_judge_client(settings),
            queue=queue,
            view_cache=ViewCache(),
            rejudge_slots=asyncio.Semaphore(rejudge_judge_slots(settings)),
        )

    @property
    def shared_redis(self) -> ArqRedis | None:
        """The Redis every process of the deployment shares (arq mode), else None."""
        return self.queue.redis if isinstance(self.queue, ArqQueue) else None

    async def close(self) -> None:
        await self.judge_client.aclose()
        await self.engine.dispose()


def rejudge_judge_slots(settings: Settings) -> int:
    """The process-wide bound on judge calls made for rejudge runs: ceil(REJUDGE_JUDGE_SHARE ×
    JUDGE_CONCURRENCY) of the client's slots, so a rejudge never takes the whole judge from new
    submissions (whose calls are bounded by the client alone)."""
    return max(1, math.ceil(settings.rejudge_judge_share * settings.judge_concurrency))


def build_judge_client(settings: Settings) -> JudgeClient:
    """One client per process: its semaphore bounds every judge call the process makes."""
    return JudgeClient(
        base_url=settings.judge_base_url,
        api_key=settings.judge_api_key.get_secret_value() if settings.judge_api_key else None,
        concurrency=settings.judge_concurrency,
        timeout=settings.judge_timeout_seconds,
        max_transport_retries=settings.judge_max_transport_retries,
        max_parse_retries=settings.judge_max_parse_retries,
        backoff_base=settings.judge_backoff_base_seconds,
        backoff_cap=settings.judge_backoff_cap_seconds,
    )
