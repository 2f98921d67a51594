"""Many processes as many hosts would run them: PostgreSQL, Redis, `mmrare serve` and arq worker
processes, the stand-in judge over HTTP, and an S3-compatible bucket. What one host wrote to its
disk, another cannot read; what the deployment allows the judge, all processes together keep
to."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import EvaluationRun, ItemResult
from app.db.session import create_engine, create_session_factory
from app.demo.synthetic import write_synthetic_bundle, write_synthetic_predictions
from app.judge.limit import PERMITS_KEY
from app.tracks import Track
from tests.integration.helpers import (
    auth,
    prepare_database,
    serve,
    team_token,
    upload,
    wait_for_status,
)
from tests.support import (
    S3Server,
    StandinProcess,
    StartApi,
    StartStandin,
    StartWorker,
    wait_until,
)

pytestmark = pytest.mark.integration

SECRET = "many-hosts-test-secret"  # several hosts share one SECRET_KEY (README)


def _env(
    database_url: str, redis_url: str, judge: StandinProcess, storage_dir: Path, **extra: str
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JUDGE_BASE_URL": judge.base_url,
        "STORAGE_DIR": str(storage_dir),
        "SECRET_KEY": SECRET,
        "JUDGE_BACKOFF_BASE_SECONDS": "0.01",
        "SUBMISSIONS_PER_DAY": "50",
        **extra,
    }


def _settings(env: dict[str, str]) -> Settings:
    return Settings(**{name.lower(): value for name, value in env.items()})  # type: ignore[arg-type]


def _stats(judge: StandinProcess) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"http://127.0.0.1:{judge.port}/_standin/stats").json()
    return stats


def _distinct_predictions(bundle: Path, directory: Path, count: int) -> list[bytes]:
    """`count` different T1 files (different answers, so the judge cache cannot answer them)."""
    return [
        write_synthetic_predictions(bundle, directory / str(seed), seed=seed)[Track.T1].read_bytes()
        for seed in range(count)
    ]


def _permits_held(redis_url: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.zcard(PERMITS_KEY))
    finally:
        client.close()


def test_three_workers_keep_to_one_global_judge_limit(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    """Each worker may send 16 calls; the deployment's limit of 24 holds across all three."""
    # A slow judge: every worker has its 16 calls waiting at once, twice what the limit allows.
    judge = start_standin("--latency-ms", "1000")
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=120, seed=5)
    env = _env(pg_clean, redis_clean, judge, tmp_path / "host-api")
    prepare_database(_settings(env), bundle)
    files = _distinct_predictions(bundle, tmp_path / "predictions", 9)
    limits = {"JUDGE_CONCURRENCY": "16", "JUDGE_GLOBAL_CONCURRENCY": "24"}
    workers = [
        start_worker({**env, **limits, "STORAGE_DIR": str(tmp_path / f"host-{n}")}, name=f"w{n}")
        for n in range(3)
    ]
    token = team_token(pg_clean, "limits")
    with (
        serve(_settings(env)) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        ids = []
        for number, data in enumerate(files):
            response = upload(client, Track.T1, data, model=f"limit-model-{number}")
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for submission_id in ids:
            status = wait_for_status(client, submission_id, {"scored", "failed"}, timeout=180)
            assert status["status"] == "scored", status
    stats = _stats(judge)
    assert stats["status_counts"] == {"200": stats["requests"]}  # no 429s, no retries needed
    assert 20 <= stats["max_in_flight"] <= 24, stats
    busy = [w for w in workers if "judge_run(" in w.log_text()]
    assert len(busy) >= 2, [w.describe() for w in workers]  # the limit was shared, not idle
    wait_until(lambda: _permits_held(redis_clean) == 0, 10, message="every permit given back")


def test_an_api_and_a_worker_with_different_storage_dirs_judge_an_upload(
    pg_clean: str,
    redis_clean: str,
    standin_judge: StandinProcess,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    """The upload and the gold images live in the database: the worker's host has neither the
    API's directory nor the gold bundle, and still judges the upload, images included."""
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=60, seed=11, with_images=True)
    predictions = write_synthetic_predictions(bundle, tmp_path / "predictions", seed=11)
    api_dir, worker_dir = tmp_path / "host-api" / "files", tmp_path / "host-worker" / "files"
    env = _env(pg_clean, redis_clean, standin_judge, api_dir)
    prepare_database(_settings(env), bundle)
    shutil.rmtree(bundle.parent)  # the bundle stays on the maintainer's machine
    start_worker({**env, "STORAGE_DIR": str(worker_dir), "JUDGE_SEND_IMAGES": "true"})
    token = team_token(pg_clean, "hosts")
    with (
        serve(_settings(env)) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        response = upload(client, Track.T3, predictions[Track.T3].read_bytes())
        assert response.status_code == 201, response.text
        status = wait_for_status(client, response.json()["id"], {"scored", "failed"})
    assert status["status"] == "scored", status
    assert status["result"]["judge_error_count"] == 0, status  # no image was missing
    assert _stats(standin_judge)["images"] >= 2  # T3 items carry two images each
    assert not any(path.is_file() for path in api_dir.rglob("*"))  # the upload is in the DB
    assert any(worker_dir.rglob("*.png"))  # the worker's host cached the images it sent


def test_an_api_and_a_worker_with_different_storage_dirs_judge_an_upload_kept_in_a_bucket(
    pg_clean: str,
    redis_clean: str,
    standin_judge: StandinProcess,
    s3_server: S3Server,
    start_api: StartApi,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    """STORAGE_BACKEND=s3: `mmrare serve` and `mmrare worker`, each with a STORAGE_DIR of its
    own, share the upload and the gold images through the bucket alone."""
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=60, seed=11, with_images=True)
    predictions = write_synthetic_predictions(bundle, tmp_path / "predictions", seed=11)
    api_dir, worker_dir = tmp_path / "host-api" / "files", tmp_path / "host-worker" / "files"
    env = _env(pg_clean, redis_clean, standin_judge, api_dir, **s3_server.env)
    prepare_database(_settings(env), bundle)  # the gold images go to the bucket
    shutil.rmtree(bundle.parent)  # the bundle stays on the maintainer's machine
    images = s3_server.keys()
    assert images and not any(api_dir.rglob("*.png"))
    api = start_api(env)
    worker_env = {**env, "STORAGE_DIR": str(worker_dir), "JUDGE_SEND_IMAGES": "true"}
    worker = start_worker(worker_env, command=True)
    data = predictions[Track.T3].read_bytes()
    token = team_token(pg_clean, "bucket")
    with httpx.Client(base_url=api.base_url, headers=auth(token), trust_env=False) as client:
        response = upload(client, Track.T3, data)
        assert response.status_code == 201, response.text
        status = wait_for_status(client, response.json()["id"], {"scored", "failed"})
    assert status["status"] == "scored", (status, worker.describe())
    assert status["result"]["judge_error_count"] == 0, status  # no image was missing
    assert _stats(standin_judge)["images"] >= 2  # T3 items carry two images each
    upload_key = f"mmrare/{hashlib.sha256(data).hexdigest()}"
    assert s3_server.keys() == sorted([*images, upload_key])
    assert not any(path.is_file() for path in api_dir.rglob("*"))  # nothing on the API's disk
    assert any(worker_dir.rglob("*.png"))  # the worker's host cached the images it sent


def _runs(database_url: str) -> list[tuple[int, int, int]]:
    """(run id, attempt, stored item results) of every run; a result is keyed by (run, item)."""

    async def count() -> list[tuple[int, int, int]]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                rows = await session.execute(
                    select(EvaluationRun.id, EvaluationRun.attempt, func.count(ItemResult.item_id))
                    .outerjoin(ItemResult, ItemResult.run_id == EvaluationRun.id)
                    .group_by(EvaluationRun.id, EvaluationRun.attempt)
                    .order_by(EvaluationRun.id)
                )
                return [(run_id, attempt, items) for run_id, attempt, items in rows]
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_two_apis_three_workers_and_a_worker_killed_mid_run(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    start_api: StartApi,
    tmp_path: Path,
) -> None:
    # 80 ms a call: the victim's four runs last over 12 s, ample time for the other two
    # workers to start and take the queued runs before it could drain the queue alone.
    judge = start_standin("--latency-ms", "80")
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=240, seed=7)
    env = _env(pg_clean, redis_clean, judge, tmp_path / "host-api-1")
    prepare_database(_settings(env), bundle)
    files = _distinct_predictions(bundle, tmp_path / "predictions", 6)
    apis = [
        start_api(env, name="api-1"),
        start_api({**env, "STORAGE_DIR": str(tmp_path / "host-api-2")}, name="api-2"),
    ]
    worker_env = {
        **env,
        "JUDGE_CONCURRENCY": "2",
        "JUDGE_GLOBAL_CONCURRENCY": "5",
        "JUDGE_PERMIT_LEASE_SECONDS": "2",
        "RUN_BATCH_SIZE": "4",
        "RUN_STALE_AFTER_SECONDS": "2",
        "REAPER_INTERVAL_SECONDS": "1",
    }

    def worker(n: int) -> dict[str, str]:
        return {**worker_env, "STORAGE_DIR": str(tmp_path / f"host-worker-{n}")}

    victim = start_worker(worker(0), name="victim")
    token = team_token(pg_clean, "fleet")
    clients = [httpx.Client(base_url=api.base_url, headers=auth(token)) for api in apis]
    try:
        ids = []
        for number, data in enumerate(files):
            client = clients[number % 2]  # uploads alternate between the two APIs
            response = upload(client, Track.T1, data, model=f"fleet-model-{number}")
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        victim.wait_for_log("judge_run(", timeout=60)
        others = [start_worker(worker(n), name=f"w{n}") for n in (1, 2)]
        wait_until(
            lambda: any("judge_run(" in w.log_text() for w in others),
            60,
            message="another worker judging too",
        )
        victim.kill()
        for number, submission_id in enumerate(ids):
            # Either API answers for any submission: they share the database.
            status = wait_for_status(
                clients[(number + 1) % 2], submission_id, {"scored", "failed"}, timeout=180
            )
            assert status["status"] == "scored", status
            assert status["progress"]["items_done"] == status["progress"]["items_total"]
    finally:
        for client in clients:
            client.close()
    runs = _runs(pg_clean)
    assert len(runs) == len(ids)
    assert all(items == 77 for _, _, items in runs), runs  # every T1 item of every run
    assert any(attempt > 1 for _, attempt, _ in runs), runs  # the victim's runs were taken over
    assert all(w.is_running() for w in others), [w.describe() for w in others]
