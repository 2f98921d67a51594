"""The unit of work against real PostgreSQL: jobs are sent only after a successful commit; a
request's failed commit answers 500 (the commit runs before the response is sent); a token's
use is written outside the request's transaction, at most once per resolution; a service with
the env.example placeholder as SECRET_KEY does not start."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ConfigurationError, Settings
from app.db.models import ApiToken
from app.db.session import create_engine, create_session_factory
from app.unit_of_work import UnitOfWork, unit_of_work
from app.web.app import create_app
from app.web.deps import UnitOfWorkDep
from tests.integration.helpers import RecordingQueue, auth, make_team_token

# A constraint PostgreSQL checks only at COMMIT: the transaction runs fine until then.
DEFERRED_VIOLATION = (
    "CREATE TEMP TABLE uow_parent (id int PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE uow_child (parent int REFERENCES uow_parent "
    "DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP",
    "INSERT INTO uow_child VALUES (1)",
)


async def break_the_commit(session: AsyncSession) -> None:
    for statement in DEFERRED_VIOLATION:
        await session.execute(text(statement))


@pytest.fixture
async def sessions(pg_clean: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_clean)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_jobs_are_sent_after_the_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = RecordingQueue()
    async with unit_of_work(sessions, queue) as uow:
        uow.enqueue_run(7, 1)
        uow.enqueue_run(8, 2)
        assert queue.jobs == []  # nothing leaves before the commit
    assert queue.jobs == [(7, 1), (8, 2)]


async def test_a_job_recorded_in_a_unit_of_work_that_fails_to_commit_is_never_enqueued(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = RecordingQueue()
    with pytest.raises(Exception, match="foreign key"):
        async with unit_of_work(sessions, queue) as uow:
            uow.enqueue_run(7, 1)
            await break_the_commit(uow.session)
    assert queue.jobs == []


async def test_a_unit_of_work_that_raises_rolls_back_and_sends_nothing(
    sessions: async_sessionmaker[AsyncSession], pg_clean: str
) -> None:
    queue = RecordingQueue()
    with pytest.raises(LookupError):
        async with unit_of_work(sessions, queue) as uow:
            await make_token_row(uow)
            uow.enqueue_run(7, 1)
            raise LookupError("stop")
    assert queue.jobs == []
    async with sessions() as session:
        assert await session.scalar(select(ApiToken)) is None


async def test_discard_drops_the_jobs_recorded_so_far(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = RecordingQueue()
    async with unit_of_work(sessions, queue) as uow:
        uow.enqueue_run(7, 1)
        await uow.discard()
        uow.enqueue_run(9, 1)
    assert queue.jobs == [(9, 1)]


async def make_token_row(uow: UnitOfWork) -> None:
    from app.services.accounts import create_team, create_token

    await create_team(uow.session, "rolled-back", actor="test")
    await create_token(uow.session, "rolled-back", admin=False, actor="test")


# --- the request's unit of work ---------------------------------------------------------------


@pytest.fixture
def settings(pg_clean: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=pg_clean,
        storage_dir=tmp_path / "uploads",
        secret_key="test-secret",  # type: ignore[arg-type]  # a plain value, as from the env
        judge_base_url="http://127.0.0.1:9/v1",
        judge_concurrency=1,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)

    async def failing_commit(uow: UnitOfWorkDep) -> dict[str, str]:
        uow.enqueue_run(5, 1)
        await break_the_commit(uow.session)
        return {"status": "written"}

    async def good_commit(uow: UnitOfWorkDep) -> dict[str, str]:
        uow.enqueue_run(6, 1)
        return {"status": "written"}

    app.add_api_route("/_test/failing-commit", failing_commit, methods=["POST"])
    app.add_api_route("/_test/good-commit", good_commit, methods=["POST"])
    async with app.router.lifespan_context(app):
        app.state.queue = RecordingQueue()
        app.state.runtime = dataclasses.replace(app.state.runtime, queue=app.state.queue)
        yield app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    # As a server would: an exception past the app is a 500 response, not a client error.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_request_whose_commit_fails_answers_500_and_enqueues_nothing(app: FastAPI) -> None:
    async with client_of(app) as client:
        failed = await client.post("/_test/failing-commit")
        good = await client.post("/_test/good-commit")
    assert failed.status_code == 500
    assert "written" not in failed.text
    assert good.status_code == 200
    assert app.state.queue.jobs == [(6, 1)]


async def last_used(sessions: async_sessionmaker[AsyncSession]) -> object:
    async with sessions() as session:
        return await session.scalar(select(ApiToken.last_used_at))


async def test_a_token_use_is_written_once_per_resolution_even_on_reads(app: FastAPI) -> None:
    sessions: async_sessionmaker[AsyncSession] = app.state.runtime.sessions
    token = await make_team_token(sessions, "alpha")
    assert await last_used(sessions) is None
    async with client_of(app) as client:
        first = await client.get("/api/v1/quota", headers=auth(token))
        assert first.status_code == 200
        stamped = await last_used(sessions)
        assert stamped is not None  # a GET records the use too (its own transaction)
        again = await client.get("/api/v1/quota", headers=auth(token))
        assert again.status_code == 200
    assert await last_used(sessions) == stamped  # within the resolution: not written again


async def test_the_placeholder_secret_key_stops_start_up(settings: Settings) -> None:
    refused = settings.model_copy(update={"secret_key": SecretStr("change-me-to-64-random-hex")})
    app = create_app(refused)
    with pytest.raises(ConfigurationError, match=r"placeholder from deploy/env\.example"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - never reached
