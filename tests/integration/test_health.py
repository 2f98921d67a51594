"""`/healthz` (the process answers) and `/readyz` (it can serve): 200, or 503 naming each
failing check, against real databases, a real Redis that goes away and a real S3-compatible
server whose bucket goes away."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest
import redis
from alembic import command
from arq.connections import ArqRedis
from psycopg import sql
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db.migrate import alembic_config, head_revision, upgrade
from app.db.session import create_engine
from app.queue import ArqQueue
from app.services import health
from app.storage.s3 import S3Store
from tests.integration.helpers import in_process_app, serve
from tests.support import S3Server, free_port, mmrare_on, wait_until

pytestmark = pytest.mark.integration


def _settings(tmp_path: Path, database_url: str, redis_url: str | None = None) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        storage_dir=tmp_path / "uploads",
        secret_key="test-secret",
        judge_base_url="http://127.0.0.1:9/v1",
        judge_concurrency=1,
    )


def _readyz(client: httpx.Client) -> tuple[int, dict[str, Any]]:
    response = client.get("/readyz")
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


def _wait_not_ready(client: httpx.Client, failing: list[str]) -> dict[str, Any]:
    """Poll /readyz until it answers 503 naming exactly `failing`; returns that body."""
    latest: dict[str, Any] = {}

    def reached() -> bool:
        nonlocal latest
        status, latest = _readyz(client)
        return status == 503 and latest["failing"] == failing

    wait_until(reached, 30, message=lambda: f"/readyz 503 failing {failing}: {latest}")
    return latest


async def test_the_embedded_default_is_ready_without_redis(sqlite_url: str, tmp_path: Path) -> None:
    async with in_process_app(_settings(tmp_path, sqlite_url)) as env:
        live = await env.client.get("/healthz")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        ready = await env.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"database": "ok", "migrations": "ok"},  # no REDIS_URL: no Redis check
            "failing": [],
        }


def test_readyz_names_migrations_behind_head_then_a_database_that_went_away(
    empty_postgres_url: str, postgres_admin_url: str, redis_clean: str, tmp_path: Path
) -> None:
    upgrade(empty_postgres_url)
    with (
        serve(_settings(tmp_path, empty_postgres_url, redis_clean)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        assert _readyz(client)[0] == 200
        # A schema one revision behind this code (start-up itself needs the current tables, so
        # the database falls behind a running process: a host rolled back by another).
        command.downgrade(alembic_config(empty_postgres_url), "-1")
        status, body = _readyz(client)
        assert status == 503, body
        assert body["status"] == "not ready"
        assert body["failing"] == ["migrations"]
        assert body["checks"]["migrations"].endswith(f", expected {head_revision()}")
        assert body["checks"]["database"] == body["checks"]["redis"] == "ok"
        assert client.get("/healthz").status_code == 200  # alive all the same

        assert mmrare_on(empty_postgres_url, "db", "upgrade").returncode == 0
        status, body = _readyz(client)
        assert (status, body["failing"]) == (200, []), body

        name = make_url(empty_postgres_url).database
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(str(name)))
            )
        body = _wait_not_ready(client, ["database"])
        assert body["checks"]["database"].startswith("unreachable (")
        assert body["checks"]["migrations"].startswith("not checked")
        assert str(name) not in client.get("/readyz").text  # no host, user or database named


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test alone (so it can be stopped), on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (CI=true: integration services required)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(probe.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, 20, message=f"redis-server on port {port} to answer")
        yield url, server
    finally:
        probe.close()
        server.kill()
        server.wait(timeout=10)


def test_readyz_names_redis_when_it_goes_away(
    postgres_url: str, own_redis: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    redis_url, redis_server = own_redis
    with (
        serve(_settings(tmp_path, postgres_url, redis_url)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        status, body = _readyz(client)
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}

        redis_server.kill()
        redis_server.wait(timeout=10)
        body = _wait_not_ready(client, ["redis"])
        assert body["checks"]["redis"] in {"timed out", "unreachable (ConnectionError)"}
        assert client.get("/healthz").status_code == 200


async def test_readyz_names_the_bucket_when_it_is_gone(
    sqlite_url: str, s3_server: S3Server, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, sqlite_url).model_copy(update=s3_server.settings())
    async with in_process_app(settings) as env:
        ready = await env.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "bucket": "ok"}

        s3_server.client().delete_bucket(Bucket=S3Server.BUCKET)
        gone = await env.client.get("/readyz")
        assert gone.status_code == 503, gone.text
        assert gone.json()["failing"] == ["bucket"]
        assert gone.json()["checks"]["bucket"] == "refused (HTTP 404)"  # no such bucket
        assert (await env.client.get("/healthz")).status_code == 200


async def test_readyz_names_a_bucket_server_nobody_answers_for(
    sqlite_url: str, s3_server: S3Server, tmp_path: Path
) -> None:
    nobody = {**s3_server.settings(), "s3_endpoint_url": f"http://127.0.0.1:{free_port()}"}
    settings = _settings(tmp_path, sqlite_url).model_copy(update=nobody)
    async with in_process_app(settings) as env:
        response = await env.client.get("/readyz")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["failing"] == ["bucket"]
    assert body["checks"]["bucket"] == "unreachable (EndpointConnectionError)"
    assert "127.0.0.1" not in response.text  # the probe is public: no host named


async def test_readyz_answers_within_one_check_timeout_however_many_dependencies_hang(
    sqlite_url: str, s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis and the bucket both accept connections and never answer: the checks run at once,
    so the probe still answers after one check's timeout, not after the sum of them."""
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 2.0)
    with socket.socket() as silent:  # connections complete in its backlog; nothing is read
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hung = {**s3_server.settings(), "s3_endpoint_url": f"http://127.0.0.1:{port}"}
        settings = _settings(tmp_path, sqlite_url).model_copy(update=hung)
        await asyncio.to_thread(upgrade, settings.database_url)  # it runs its own event loop
        store = S3Store.from_settings(settings)
        queue = ArqQueue(ArqRedis(host="127.0.0.1", port=port))
        engine = create_engine(settings.database_url)
        runtime: Any = SimpleNamespace(engine=engine, queue=queue, store=store)
        try:
            started = time.monotonic()
            ready = await health.readiness(runtime)
            elapsed = time.monotonic() - started
        finally:
            await queue.redis.aclose()
            await store.aclose()
            await engine.dispose()
    assert ready.checks == {
        "database": "ok",
        "migrations": "ok",
        "redis": "timed out",
        "bucket": "timed out",
    }
    assert elapsed < 3.5  # one timeout (2 s) and slack for a loaded machine; in turn: 4 s
