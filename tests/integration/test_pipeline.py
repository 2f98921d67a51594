"""Upload → queue → judge → stored scores → leaderboard, end to end over real services.

The judge is the reference stand-in over HTTP on loopback; its ratings are deterministic, so
the demo bundle's scores are known exactly (derivation: the stand-in's rule in
app/standin/rating.py applied to app/data/demo, aggregated by the rubric rules).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import ItemResult
from app.db.session import create_engine, create_session_factory
from app.tracks import Track
from tests.integration.helpers import (
    auth,
    demo_predictions,
    prepare_database,
    publish,
    serve,
    team_token,
    upload,
    wait_for_status,
)
from tests.support import StandinProcess, StartWorker, wait_until

pytestmark = pytest.mark.integration

# Track score, T1 F1 (0–100) and coverage of the demo sample predictions under the stand-in.
EXPECTED = {
    Track.T1: (100 * 6 / 12, 100 * 7.55 / 12, (11, 12)),
    Track.T2: (100 * 7 / 30, None, (9, 10)),
    Track.T3: (100 * 14 / 40, None, (8, 8)),
    Track.T4: (100 * 36 / 80, None, (9, 10)),
}


def _settings(
    database_url: str, tmp_path: Path, judge: StandinProcess, **extra: object
) -> Settings:
    return Settings(
        database_url=database_url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=judge.base_url,
        judge_backoff_base_seconds=0.01,
        **extra,  # type: ignore[arg-type]
    )


def _assert_demo_scores(client: httpx.Client, ids: dict[Track, int]) -> None:
    for track, submission_id in ids.items():
        status = wait_for_status(client, submission_id, {"scored", "failed"})
        assert status["status"] == "scored", status
        score, f1, (answered, total) = EXPECTED[track]
        assert status["result"]["score"] == pytest.approx(score)
        assert status["result"]["f1"] == (None if f1 is None else pytest.approx(f1))
        assert status["coverage"] == {"answered": answered, "total": total}
        assert status["result"]["judge_error_count"] == 0
        assert status["judge_model"] == "mmrare-reference-judge-v1"
        assert status["judge_is_reference"] is True
    board = client.get("/api/v1/leaderboard").json()
    (row,) = [e for e in board["entries"] if e["model"] == "demo-model"]
    assert row["kind"] == "judged"
    for track, (score, _, _) in EXPECTED.items():
        assert row["tracks"][track.value]["score"] == pytest.approx(score)
        assert row["tracks"][track.value]["rubric_version"]
    assert row["mean"] == pytest.approx(sum(s for s, _, _ in EXPECTED.values()) / 4)
    page = client.get("/")
    assert page.status_code == 200
    assert "demo-model" in page.text and "reference stand-in" in page.text


def _upload_demo(client: httpx.Client) -> dict[Track, int]:
    ids = {}
    for track in Track:
        response = upload(client, track, demo_predictions(track))
        assert response.status_code == 201, response.text
        ids[track] = response.json()["id"]
        publish(client, ids[track])  # private until published: the board shows it once scored
    return ids


def test_postgres_redis_and_a_worker_process(
    pg_clean: str,
    redis_clean: str,
    standin_judge: StandinProcess,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    settings = _settings(pg_clean, tmp_path, standin_judge, redis_url=redis_clean)
    prepare_database(settings)
    worker = start_worker(
        {
            "DATABASE_URL": pg_clean,
            "REDIS_URL": redis_clean,
            "JUDGE_BASE_URL": standin_judge.base_url,
            "STORAGE_DIR": str(settings.storage_dir.resolve()),
        }
    )
    token = team_token(settings.database_url, "pipeline")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        ids = _upload_demo(client)
        _assert_demo_scores(client, ids)
    assert worker.is_running(), worker.describe()
    assert "judge_run" in worker.log_text()  # the arq worker process did the judging


def test_embedded_default_runs_jobs_in_process(
    sqlite_url: str, standin_judge: StandinProcess, tmp_path: Path
) -> None:
    settings = _settings(sqlite_url, tmp_path, standin_judge)
    assert not settings.uses_arq
    prepare_database(settings)
    token = team_token(settings.database_url, "pipeline")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        _assert_demo_scores(client, _upload_demo(client))


def test_same_file_again_returns_the_existing_submission(
    sqlite_url: str, standin_judge: StandinProcess, tmp_path: Path
) -> None:
    settings = _settings(sqlite_url, tmp_path, standin_judge)
    prepare_database(settings)
    token = team_token(settings.database_url, "pipeline")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        first = upload(client, Track.T2, demo_predictions(Track.T2))
        again = upload(client, Track.T2, demo_predictions(Track.T2))
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True


def _count_item_rows(database_url: str) -> tuple[int, int]:
    async def count() -> tuple[int, int]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                rows = await session.scalar(select(func.count()).select_from(ItemResult))
                distinct = await session.scalar(
                    select(func.count(func.distinct(ItemResult.item_id)))
                )
                return rows or 0, distinct or 0
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_worker_killed_mid_run_is_finished_by_another(
    pg_clean: str,
    redis_clean: str,
    start_standin: object,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    from app.demo.synthetic import write_synthetic_bundle, write_synthetic_predictions

    judge: StandinProcess = start_standin("--latency-ms", "60")  # type: ignore[operator]
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=240, seed=3)
    predictions = write_synthetic_predictions(bundle, tmp_path / "predictions", seed=3)
    settings = _settings(pg_clean, tmp_path, judge, redis_url=redis_clean)
    prepare_database(settings, bundle)
    env = {
        "DATABASE_URL": pg_clean,
        "REDIS_URL": redis_clean,
        "JUDGE_BASE_URL": judge.base_url,
        "STORAGE_DIR": str(settings.storage_dir.resolve()),
        "JUDGE_CONCURRENCY": "2",
        "RUN_BATCH_SIZE": "4",
        "RUN_STALE_AFTER_SECONDS": "2",
        "REAPER_INTERVAL_SECONDS": "1",
    }
    first = start_worker(env, name="first")
    token = team_token(settings.database_url, "pipeline")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        response = upload(client, Track.T1, predictions[Track.T1].read_bytes())
        assert response.status_code == 201, response.text
        submission_id = response.json()["id"]
        progress: dict[str, Any] = {}

        def partly_done() -> bool:
            # Unanswered items are stored (as 0) before any judge call, so count judged ones.
            nonlocal progress
            progress = client.get(f"/api/v1/submissions/{submission_id}").json()
            unanswered = progress["coverage"]["total"] - progress["coverage"]["answered"]
            judged = progress["progress"]["items_done"] - unanswered
            return 8 <= judged < progress["coverage"]["answered"]

        wait_until(partly_done, 30, message=lambda: f"a partly judged run: {progress}")
        first.kill()
        stats_url = f"http://127.0.0.1:{judge.port}/_standin/stats"
        calls_before_restart = httpx.get(stats_url).json()["requests"]
        start_worker(env, name="second")
        final = wait_for_status(client, submission_id, {"scored", "failed"}, timeout=90)
    assert final["status"] == "scored", final
    total = final["progress"]["items_total"]
    answered = final["coverage"]["answered"]
    rows, distinct = _count_item_rows(pg_clean)
    assert rows == distinct == total  # every item stored exactly once
    calls = httpx.get(stats_url).json()["requests"]
    # Items stored before the kill were not judged again. What a kill can cost is the judge
    # calls in flight (JUDGE_CONCURRENCY = 2) plus results not yet written (< RUN_BATCH_SIZE).
    assert calls <= answered + 2 + (4 - 1), (calls, answered, calls_before_restart)
    assert calls_before_restart >= 8  # the first worker really did part of the work
