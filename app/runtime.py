"""The long-lived parts of a process (engine, judge client, file store), built once at start-up
and closed at shutdown. The API process and the worker process both start one."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.session import create_engine, create_session_factory, unit_of_work
from app.judge.client import JudgeClient
from app.services.configuration import ensure_track_configuration
from app.services.judge_cache import DatabaseJudgeCache
from app.services.judging import JudgingContext
from app.storage import FileStore


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: FileStore
    judge_client: JudgeClient
    judging: JudgingContext

    @classmethod
    async def start(cls, settings: Settings) -> "Runtime":
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        store = FileStore(settings.storage_dir)
        client = build_judge_client(settings)
        judging = JudgingContext(
            sessions=sessions,
            client=client,
            cache=DatabaseJudgeCache(sessions),
            store=store,
            settings=settings,
        )
        async with unit_of_work(sessions) as session:
            await ensure_track_configuration(session, settings)
        return cls(settings, engine, sessions, store, client, judging)

    async def close(self) -> None:
        await self.judge_client.aclose()
        await self.engine.dispose()


def build_judge_client(settings: Settings) -> JudgeClient:
    """One client per process: its semaphore bounds every judge call the process makes."""
    return JudgeClient(
        base_url=settings.judge_base_url,
        api_key=settings.judge_api_key,
        concurrency=settings.judge_concurrency,
        timeout=settings.judge_timeout_seconds,
        max_transport_retries=settings.judge_max_transport_retries,
        max_parse_retries=settings.judge_max_parse_retries,
        backoff_base=settings.judge_backoff_base_seconds,
        backoff_cap=settings.judge_backoff_cap_seconds,
    )
