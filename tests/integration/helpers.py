"""Helpers shared by the end-to-end and web tests: preparing a database, teams and tokens,
serving the app on loopback or in-process, uploading."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.session import create_engine, create_session_factory
from app.demo.run import demo_dir
from app.judge.limit import LocalLimiter
from app.repositories.accounts import get_team_by_name
from app.runtime import Runtime, build_judge_client, rejudge_judge_slots
from app.services.accounts import create_team, create_token
from app.services.configuration import ensure_track_configuration
from app.services.gold_import import import_gold_bundle
from app.storage import build_store
from app.tracks import Track
from app.unit_of_work import transaction
from app.view_cache import ViewCache
from app.web.app import create_app
from tests.support import free_port, truncate_all, wait_until

DEMO_GOLD = demo_dir() / "gold.jsonl"
DEMO_PREDICTIONS = demo_dir() / "predictions"


def prepare_database(settings: Settings, bundle: Path = DEMO_GOLD) -> None:
    """Register the rubrics and judge, and import a gold bundle (as `mmrare` commands would)."""

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(create_session_factory(engine)) as session:
                await ensure_track_configuration(session, settings)
                await import_gold_bundle(session, build_store(settings), bundle)
        finally:
            await engine.dispose()

    asyncio.run(run())


@contextmanager
def serve(settings: Settings, *, record_jobs: bool = False) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, in a thread; yields its base URL.
    `record_jobs`: runs go to a RecordingQueue instead of being judged."""
    port = free_port()
    app = create_app(settings, job_queue=RecordingQueue() if record_jobs else None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, message="the API to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclasses.dataclass(frozen=True)
class ServedDemo:
    """The app served on loopback over the demo gold, with a team's and a maintainer's token."""

    base_url: str
    team_token: str
    admin_token: str
    settings: Settings


@contextmanager
def serve_demo_on_postgres(
    postgres_url: str, directory: Path, **overrides: Any
) -> Iterator[ServedDemo]:
    """The app on `postgres_url` (emptied, then set up with the demo gold) under uvicorn, jobs
    recorded instead of judged, no upload quota to speak of; `overrides` are settings."""
    truncate_all(postgres_url)
    settings = Settings(
        database_url=postgres_url,
        storage_dir=directory / "uploads",
        secret_key="test-secret",
        judge_base_url="http://127.0.0.1:9/v1",
        judge_concurrency=1,
        submissions_per_day=100_000,
        **overrides,
    )
    prepare_database(settings)
    team, admin = team_token(postgres_url, "edge"), team_token(postgres_url, "maint", admin=True)
    with serve(settings, record_jobs=True) as base_url:
        yield ServedDemo(base_url, team, admin, settings)


def upload(
    client: httpx.Client, track: Track, data: bytes, *, model: str = "demo-model", **form: Any
) -> httpx.Response:
    """POST a prediction file; the client carries the team's token (see `auth`)."""
    return client.post(
        "/api/v1/submissions",
        data={"track": track.value, "model": model, **form},
        files={"file": (f"{track.value}.jsonl", data, "application/jsonl")},
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_team_token(
    sessions: async_sessionmaker[AsyncSession], team: str, *, admin: bool = False
) -> str:
    """A new token of `team` (created when missing), committed."""
    async with transaction(sessions) as session:
        if await get_team_by_name(session, team) is None:
            await create_team(session, team, actor="test")
        token, _ = await create_token(session, team, admin=admin, actor="test")
    return token


def team_token(database_url: str, team: str, *, admin: bool = False) -> str:
    """`make_team_token` for synchronous tests: opens its own engine."""

    async def run() -> str:
        engine = create_engine(database_url)
        try:
            return await make_team_token(create_session_factory(engine), team, admin=admin)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def publish(client: httpx.Client, submission_id: int) -> None:
    response = client.post(f"/api/v1/submissions/{submission_id}/publish")
    assert response.status_code == 200, response.text


def multi_track_file(*tracks: Track) -> bytes:
    """The demo sample predictions of `tracks` in one file, each line naming its track."""
    lines = [
        json.dumps({**json.loads(line), "track": track.value})
        for track in tracks
        for line in demo_predictions(track).decode().splitlines()
        if line.strip()
    ]
    return ("\n".join(lines) + "\n").encode()


class RecordingQueue:
    """A job queue that only records what was enqueued (web tests judge nothing)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[int, int]] = []

    async def enqueue_run(self, run_id: int, attempt: int) -> None:
        self.jobs.append((run_id, attempt))

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        return (run_id, attempt) in self.jobs

    async def depth(self) -> int:
        return len(self.jobs)


class InProcessApp:
    """The app with its lifespan running in this event loop and a recording queue."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, queue: RecordingQueue) -> None:
        self.app = app
        self.client = client
        self.queue = queue

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        sessions: async_sessionmaker[AsyncSession] = self.app.state.runtime.sessions
        return sessions

    async def token(self, team: str, *, admin: bool = False) -> str:
        return await make_team_token(self.sessions, team, admin=admin)

    async def upload(
        self,
        token: str | None,
        data: bytes,
        *,
        track: Track | str | None = Track.T1,
        model: str = "demo-model",
        filename: str = "predictions.jsonl",
        **form: str,
    ) -> httpx.Response:
        fields = {"model": model, **form}
        if track is not None:
            fields["track"] = track.value if isinstance(track, Track) else track
        return await self.client.post(
            "/api/v1/submissions",
            data=fields,
            files={"file": (filename, data, "application/octet-stream")},
            headers=auth(token) if token else {},
        )


@asynccontextmanager
async def in_process_app(settings: Settings) -> AsyncIterator[InProcessApp]:
    """Run the app's lifespan here and talk to it through httpx's ASGI transport (the request
    body still arrives in chunks); jobs go to a RecordingQueue instead of a judge."""
    queue = RecordingQueue()
    app = create_app(settings, job_queue=queue)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield InProcessApp(app, client, queue)


async def sign_in_admin(client: httpx.AsyncClient, token: str) -> None:
    """Sign in on /admin/login as a browser does; the client keeps the session cookie."""
    response = await client.post("/admin/login", data={"token": token})
    assert response.status_code == 303, response.text


def demo_predictions(track: Track) -> bytes:
    return (DEMO_PREDICTIONS / f"{track.value}.jsonl").read_bytes()


def wait_for_status(
    client: httpx.Client, submission_id: int, statuses: set[str], timeout: float = 60
) -> dict[str, Any]:
    latest: dict[str, Any] = {}

    def reached() -> bool:
        nonlocal latest
        latest = client.get(f"/api/v1/submissions/{submission_id}").json()
        return latest.get("status") in statuses

    wait_until(
        reached, timeout, message=lambda: f"submission {submission_id} in {statuses}: {latest}"
    )
    return latest


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file with the rubrics, judge and demo gold set: build it once per
    module, then `copy_database` it per test (migrating costs most of a test's set-up)."""
    from app.db.migrate import upgrade

    path = directory / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    prepare_database(Settings(database_url=url, storage_dir=directory / "uploads"))
    return path


def copy_database(template: Path, directory: Path) -> str:
    target = directory / "mmrare.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def copy_stored_files(template: Path, storage_dir: Path) -> None:
    """The template's stored gold images (directory store), for tests that read them."""
    shutil.copytree(template.parent / "uploads", storage_dir, dirs_exist_ok=True)


def web_settings(template: Path, directory: Path, **overrides: Any) -> Settings:
    """Settings for in-process web tests on a copy of `template`; nothing is judged."""
    values: dict[str, Any] = {
        "database_url": copy_database(template, directory),
        "storage_dir": directory / "uploads",
        "secret_key": "test-secret",
        "judge_base_url": "http://127.0.0.1:9/v1",
        "judge_concurrency": 1,  # one HTTP transport: a faster start-up
        **overrides,
    }
    return Settings(**values)


def kit_settings(template: Path, tmp_path: Path, **overrides: Any) -> Settings:
    """`web_settings` with the template's gold images in the store: a kit reads them."""
    settings = web_settings(template, tmp_path, **overrides)
    copy_stored_files(template, settings.storage_dir)
    return settings


def assert_no_gold(text: str, bundle: Path = DEMO_GOLD) -> None:
    """`text` (a page, a JSON body) names no gold item and quotes no reference answer."""
    for row in map(json.loads, bundle.read_text().splitlines()):
        assert row["id"] not in text, row["id"]
        assert row["answer"] not in text, row["id"]
        for alias in row.get("aliases") or []:
            if len(alias) > 4:  # 'DKC', 'NF1' … could be any three letters
                assert alias not in text, alias


async def demo_runtime(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Runtime:
    """A process Runtime on the test's own sessions: tracks configured, the demo gold imported,
    jobs recorded instead of queued. For tests that call the judging job directly."""
    async with transaction(sessions) as session:
        await ensure_track_configuration(session, settings)
        await import_gold_bundle(session, build_store(settings), demo_dir() / "gold.jsonl")
    return Runtime(
        settings=settings,
        keys=settings.resolve_keys(),
        engine=sessions.kw["bind"],
        sessions=sessions,
        store=build_store(settings),
        judge_client=build_judge_client(settings),
        queue=RecordingQueue(),
        view_cache=ViewCache(),
        rejudge_slots=LocalLimiter(rejudge_judge_slots(settings)),
    )


@dataclasses.dataclass(frozen=True)
class SyntheticRun:
    """A synthetic gold set on PostgreSQL + Redis, its T1 answers, and the environment of the
    worker processes that judge them (the settings' judge and store, plus `worker_env`)."""

    settings: Settings
    worker_env: dict[str, str]
    answers: bytes


def synthetic_run(
    database_url: str,
    redis_url: str,
    judge_base_url: str,
    directory: Path,
    *,
    items: int,
    seed: int,
    **worker_env: str,
) -> SyntheticRun:
    from app.demo.synthetic import write_synthetic_bundle, write_synthetic_predictions

    bundle = write_synthetic_bundle(directory / "bundle", items=items, seed=seed)
    predictions = write_synthetic_predictions(bundle, directory / "predictions", seed=seed)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        storage_dir=directory / "uploads",
        judge_base_url=judge_base_url,
    )
    prepare_database(settings, bundle)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JUDGE_BASE_URL": judge_base_url,
        "STORAGE_DIR": str(settings.storage_dir.resolve()),
        **worker_env,
    }
    return SyntheticRun(settings, env, predictions[Track.T1].read_bytes())


def clean_result(client: httpx.Client, answers: bytes) -> dict[str, Any]:
    """The same answers under another model name: every verdict comes from the judge cache,
    so this is the status of the same verdicts stored without an interruption."""
    clean = upload(client, Track.T1, answers, model="clean-model")
    assert clean.status_code == 201, clean.text
    return wait_for_status(client, clean.json()["id"], {"scored", "failed"})
