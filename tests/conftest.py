"""Shared fixtures: real PostgreSQL, Redis and SQLite databases, and real child processes.

Service fixtures follow one rule: when PostgreSQL or Redis is unreachable, the tests that need
it are skipped locally (with the reason) but fail in CI (`CI=true`), so a broken CI machine can
never pass by skipping its integration tests.

Fixtures
    postgres_url        session   migrated PostgreSQL database of its own; dropped at the end
    pg_clean            function  postgres_url with every table truncated before the test
    empty_postgres_url  function  a fresh, unmigrated PostgreSQL database (migration tests)
    redis_url           session   the test Redis database (number 13)
    redis_clean         function  redis_url after FLUSHDB
    sqlite_url          function  migrated SQLite file under tmp_path
    start_standin       function  factory: start_standin(*args) -> StandinProcess
    standin_judge       function  one reference judge started with default flags
    start_worker        function  factory: start_worker(env, *, name, burst) -> WorkerProcess
    start_api           function  factory: start_api(env, *, name) -> ApiProcess (`mmrare serve`)
    s3_server           function  an S3-compatible server on loopback with one bucket, and dummy
                                  AWS credentials in the environment (children inherit them)
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import httpx
import psycopg
import pytest
import redis
from psycopg import sql
from sqlalchemy.engine import make_url

from app.db import models  # noqa: F401  (registers every table on Base.metadata)
from app.db.migrate import upgrade
from tests.support import (
    MMRARE,
    ApiProcess,
    ChildProcess,
    S3Server,
    StandinProcess,
    StartApi,
    StartStandin,
    StartWorker,
    WorkerProcess,
    free_port,
    spawn,
    truncate_all,
    wait_until,
)

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"

STANDIN_START_TIMEOUT = 20.0
CONNECT_TIMEOUT = 3


def _unavailable(reason: str) -> NoReturn:
    """A required service is missing: fail in CI, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: integration services are required)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _database_url(admin_url: str, name: str) -> str:
    """The admin URL pointing at database `name` instead (same host, port and credentials)."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def _temporary_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it (with its connections) after.

    The name carries the pid and a random suffix so concurrent test runs never share one.
    """
    name = f"mmrare_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _database_url(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of the maintenance database used to create and drop test databases."""
    url = os.environ.get("TEST_POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
            admin.execute("SELECT 1")
    except psycopg.Error as exc:
        error = str(exc).strip()
    else:
        return url
    _unavailable(f"PostgreSQL is not reachable at {url}: {error}")


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A database of this test session, migrated with `alembic upgrade head`.

    A plain `postgresql://` URL: the app picks its drivers, worker processes get it via env.
    """
    with _temporary_database(postgres_admin_url) as url:
        upgrade(url)  # synchronous (runs its own event loop): session set-up is outside any loop
        yield url


@pytest.fixture
def pg_clean(postgres_url: str) -> str:
    """`postgres_url` with every application table emptied and its id sequences reset.

    Isolation is by truncation, not by a transaction rolled back at the end: the code under
    test commits its own unit of work, and arq workers in other processes (on their own
    connections) must see that committed data, which an outer uncommitted transaction hides.
    """
    truncate_all(postgres_url)
    return postgres_url


@pytest.fixture
def empty_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database with no tables, dropped after the test."""
    with _temporary_database(postgres_admin_url) as url:
        yield url


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis database the tests own (13 unless TEST_REDIS_URL says otherwise)."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        error = str(exc)
    else:
        return url
    finally:
        client.close()
    _unavailable(f"Redis is not reachable at {url}: {error}")


@pytest.fixture
def redis_clean(redis_url: str) -> str:
    """`redis_url` after FLUSHDB: no queued jobs, results or locks from an earlier test."""
    client = redis.Redis.from_url(redis_url, socket_timeout=CONNECT_TIMEOUT)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_url


# --------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database file of this test."""
    url = f"sqlite:///{tmp_path}/mmrare.db"
    upgrade(url)
    return url


# --------------------------------------------------------------------------------------------
# Child processes: the reference judge and arq workers
# --------------------------------------------------------------------------------------------


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test body failed, so teardown can show the children's logs."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    return report


def _stop_all(children: list[ChildProcess], request: pytest.FixtureRequest) -> None:
    """Stop every child; after a failed test, print their logs (shown in the failure report)."""
    try:
        for child in reversed(children):
            try:
                child.stop()
            except Exception as exc:  # keep stopping the others
                print(f"could not stop {child.name}: {exc!r}")
    finally:
        if request.node.stash.get(_CALL_FAILED, False):
            for child in children:
                print(child.describe(), end="\n\n")


def _models_listed(client: httpx.Client, standin: StandinProcess) -> bool:
    """True once GET /v1/models answers 200; records the first model id it lists."""
    if not standin.is_running():
        raise AssertionError(f"the reference judge exited during start-up: {standin.describe()}")
    try:
        response = client.get(f"{standin.base_url}/models")
    except httpx.TransportError:
        return False
    if response.status_code != 200:
        return False
    try:
        standin.model = str(response.json()["data"][0]["id"])
    except (ValueError, LookupError, TypeError) as exc:
        raise AssertionError(
            f"/v1/models is not an OpenAI model list ({exc!r}): {response.text[:500]}"
        ) from exc
    return True


@pytest.fixture
def start_standin(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StartStandin]:
    """Factory: `start_standin("--latency-ms", "50")` runs `python -m app.standin`.

    Each call starts one process on a free port (or on `port=`, to bring a stopped judge back)
    and returns once it serves `/v1/models`; every process is stopped at teardown (and its log
    printed if the test failed).
    """
    started: list[ChildProcess] = []

    def start(*args: str, port: int | None = None) -> StandinProcess:
        port = port or free_port()
        log_path = tmp_path / f"standin-{port}.log"
        address = ["--host", "127.0.0.1", "--port", str(port)]
        argv = [sys.executable, "-m", "app.standin", *address, *args]
        process, log_file = spawn(argv, env={}, log_path=log_path, cwd=tmp_path)
        standin = StandinProcess(
            name=f"reference judge on port {port}",
            process=process,
            log_path=log_path,
            log_file=log_file,
            port=port,
        )
        started.append(standin)
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            wait_until(
                lambda: _models_listed(client, standin),
                timeout=STANDIN_START_TIMEOUT,
                interval=0.1,
                message=lambda: f"GET {standin.base_url}/models -> 200; {standin.describe()}",
            )
        return standin

    yield start
    _stop_all(started, request)


@pytest.fixture
def standin_judge(start_standin: StartStandin) -> StandinProcess:
    """One reference judge with default flags (`.base_url`, `.port`, `.model`)."""
    return start_standin()


@pytest.fixture
def start_worker(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StartWorker]:
    """Factory: `start_worker(env)` runs `python -m arq workers.main.WorkerSettings`.

    `env` (DATABASE_URL, REDIS_URL, JUDGE_BASE_URL, JUDGE_MODEL, STORAGE_DIR, ...) is laid over
    os.environ. The process runs in tmp_path, logs to tmp_path/<name>-<n>.log, and is stopped at
    teardown if the test did not stop or kill it; a failed test shows its log. `burst=True`:
    the worker exits once the queue is empty. `command=True`: the worker is `mmrare worker`,
    as a deployment runs it (it has no burst mode).
    """
    started: list[ChildProcess] = []

    def start(
        env: Mapping[str, str],
        *,
        name: str = "worker",
        burst: bool = False,
        command: bool = False,
    ) -> WorkerProcess:
        log_path = tmp_path / f"{name}-{len(started)}.log"
        argv = [sys.executable, "-m", "arq", "workers.main.WorkerSettings"]
        if command:
            assert not burst, "`mmrare worker` has no burst mode"
            argv = [str(MMRARE), "worker"]
        if burst:
            argv.append("--burst")
        process, log_file = spawn(argv, env=env, log_path=log_path, cwd=tmp_path)
        worker = WorkerProcess(
            name=f"arq {name}",
            process=process,
            log_path=log_path,
            log_file=log_file,
            env=dict(env),
        )
        started.append(worker)
        return worker

    yield start
    _stop_all(started, request)


API_START_TIMEOUT = 30.0


def _api_answers(client: httpx.Client, api: ApiProcess) -> bool:
    if not api.is_running():
        raise AssertionError(f"the API exited during start-up: {api.describe()}")
    try:
        return client.get(f"{api.base_url}/api/v1/leaderboard").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def start_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StartApi]:
    """Factory: `start_api(env)` runs `mmrare serve` on a free loopback port, as a deployment
    runs it, and returns once it answers. `env` is laid over os.environ; the process is stopped
    at teardown (its log printed if the test failed)."""
    started: list[ChildProcess] = []

    def start(env: Mapping[str, str], *, name: str = "api") -> ApiProcess:
        port = free_port()
        log_path = tmp_path / f"{name}-{port}.log"
        argv = [str(MMRARE), "serve", "--host", "127.0.0.1", "--port", str(port)]
        process, log_file = spawn(argv, env=env, log_path=log_path, cwd=tmp_path)
        api = ApiProcess(
            name=f"{name} on port {port}",
            process=process,
            log_path=log_path,
            log_file=log_file,
            port=port,
        )
        started.append(api)
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            wait_until(
                lambda: _api_answers(client, api),
                timeout=API_START_TIMEOUT,
                interval=0.1,
                message=lambda: f"GET {api.base_url}/api/v1/leaderboard -> 200; {api.describe()}",
            )
        return api

    yield start
    _stop_all(started, request)


# --------------------------------------------------------------------------------------------
# An S3-compatible bucket
# --------------------------------------------------------------------------------------------


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Server]:
    """moto's S3 server on a loopback port with one empty bucket (`S3Server.BUCKET`).

    boto3 takes its credentials from the environment, as in a deployment: dummy ones are set
    here (this process's, inherited by the child processes a test starts), and the machine's
    own AWS configuration is hidden so it can neither help nor interfere.
    """
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    with S3Server() as server:
        yield server
