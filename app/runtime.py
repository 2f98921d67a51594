"""The long-lived parts of a process, built once at start-up and closed at shutdown: settings,
the resolved keys, the engine and its sessions, the file store, the judge client (with the
deployment's judge limit), the job queue, the leaderboard view cache and the rejudge share of
judge calls. The API process (its lifespan)
and the arq worker (its on_startup) each build one Runtime; everything else is handed it, or
the few fields it needs.

This module imports no services: start-up work that needs them (the track configuration, the
first maintenance pass) is done by the process edges after `Runtime.start`."""

import math
from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Keys, Settings
from app.db.session import create_engine, create_session_factory
from app.judge.client import JudgeClient
from app.judge.limit import PERMITS_KEY, Limiter, LocalLimiter, RedisLimiter, Unlimited
from app.queue import ArqQueue, JobQueue
from app.storage import FileStore, build_store
from app.view_cache import ViewCache

REJUDGE_PERMITS_KEY = f"{PERMITS_KEY}:rejudge"


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
    rejudge_slots: Limiter  # judge calls of rejudge runs (see rejudge_judge_slots)

    @classmethod
    async def start(cls, settings: Settings, keys: Keys, queue: JobQueue) -> "Runtime":
        """`keys` come from `settings.resolve_keys()`, called by the edge before it opens
        anything, so a refused SECRET_KEY stops start-up with nothing to close."""
        engine = create_engine(settings.database_url)
        judge_limit, rejudge_limit = build_judge_limits(settings)
        return cls(
            settings=settings,
            keys=keys,
            engine=engine,
            sessions=create_session_factory(engine),
            store=build_store(settings),
            judge_client=build_judge_client(settings, judge_limit),
            queue=queue,
            view_cache=ViewCache(),
            rejudge_slots=rejudge_limit,
        )

    @property
    def shared_redis(self) -> ArqRedis | None:
        """The Redis every process of the deployment shares (arq mode), else None."""
        return self.queue.redis if isinstance(self.queue, ArqQueue) else None

    async def close(self) -> None:
        await self.judge_client.aclose()
        await self.judge_client.limiter.aclose()  # permits still held go back at once
        await self.rejudge_slots.aclose()
        await self.store.aclose()
        await self.engine.dispose()


def rejudge_judge_slots(settings: Settings) -> int:
    """The bound on judge calls made for rejudge runs: ceil(REJUDGE_JUDGE_SHARE × the judge
    limit) — JUDGE_GLOBAL_CONCURRENCY across the deployment when set, else JUDGE_CONCURRENCY in
    this process — so a rejudge never takes the whole judge from new submissions (whose calls
    are bounded by the judge limit alone)."""
    limit = settings.judge_global_concurrency or settings.judge_concurrency
    return max(1, math.ceil(settings.rejudge_judge_share * limit))


def build_judge_limits(settings: Settings) -> tuple[Limiter, Limiter]:
    """The deployment's judge limit and the rejudge share inside it. With REDIS_URL, both are
    leased Redis permits shared by every process; without it this process is the deployment."""
    share = rejudge_judge_slots(settings)
    if settings.judge_global_concurrency is None:
        return Unlimited(), LocalLimiter(share)
    if not settings.redis_url:
        return LocalLimiter(settings.judge_global_concurrency), LocalLimiter(share)
    url, lease = settings.redis_url, settings.judge_permit_lease_seconds
    return (
        RedisLimiter.from_url(url, settings.judge_global_concurrency, lease_seconds=lease),
        RedisLimiter.from_url(url, share, key=REJUDGE_PERMITS_KEY, lease_seconds=lease),
    )


def build_judge_client(settings: Settings, limiter: Limiter | None = None) -> JudgeClient:
    """One client per process: its semaphore bounds every judge call the process makes, and
    `limiter` (the deployment's bound) every call of every process."""
    return JudgeClient(
        base_url=settings.judge_base_url,
        api_key=settings.judge_api_key.get_secret_value() if settings.judge_api_key else None,
        concurrency=settings.judge_concurrency,
        timeout=settings.judge_timeout_seconds,
        max_transport_retries=settings.judge_max_transport_retries,
        max_parse_retries=settings.judge_max_parse_retries,
        backoff_base=settings.judge_backoff_base_seconds,
        backoff_cap=settings.judge_backoff_cap_seconds,
        limiter=limiter,
    )
