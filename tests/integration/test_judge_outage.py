"""A judge outage mid-run heals without anyone: the runs wait, are retried by the maintenance
pass, and end with the clean run's exact scores — on PostgreSQL + Redis with an arq worker
process, and embedded (SQLite, jobs in-process). The judge is the stand-in as its own process,
killed (connection refused) and started again on the same port."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import EvaluationRun, ItemResult
from app.db.session import create_engine, create_session_factory
from app.tracks import Track
from tests.integration.helpers import (
    auth,
    demo_predictions,
    prepare_database,
    serve,
    team_token,
    upload,
    wait_for_status,
)
from tests.integration.test_pipeline import EXPECTED
from tests.support import StandinProcess, StartStandin, StartWorker, run_mmrare, wait_until

pytestmark = pytest.mark.integration

LATENCY_MS = "300"  # 37 answered demo items at one call at a time: ~11 s of judging
FAST_HEALING = {  # the schedule of the docs, shrunk: first wait 0.5 s, then 1, 2, 4, 4 …
    "JUDGE_OUTAGE_FIRST_DELAY_SECONDS": "0.5",
    "JUDGE_OUTAGE_MAX_DELAY_SECONDS": "4",
    "REAPER_INTERVAL_SECONDS": "1",
    "JUDGE_CONCURRENCY": "1",
    "JUDGE_MAX_TRANSPORT_RETRIES": "2",
    "JUDGE_BACKOFF_BASE_SECONDS": "0.05",
    "JUDGE_TIMEOUT_SECONDS": "5",
}


def _settings(database_url: str, tmp_path: Path, judge: StandinProcess, **extra: Any) -> Settings:
    values: dict[str, Any] = {name.lower(): value for name, value in FAST_HEALING.items()}
    return Settings(
        database_url=database_url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=judge.base_url,
        **values,
        **extra,
    )


def _requests(judge: StandinProcess) -> int:
    return int(httpx.get(f"http://127.0.0.1:{judge.port}/_standin/stats").json()["requests"])


def _stored(database_url: str) -> tuple[int, int, int]:
    """(item rows, distinct (run, item) pairs, items the runs hold in total)."""

    async def count() -> tuple[int, int, int]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                rows = await session.scalar(select(func.count()).select_from(ItemResult))
                pairs = await session.scalar(
                    select(func.count()).select_from(
                        select(ItemResult.run_id, ItemResult.item_id).distinct().subquery()
                    )
                )
                total = await session.scalar(select(func.sum(EvaluationRun.items_total)))
                return rows or 0, pairs or 0, total or 0
        finally:
            await engine.dispose()

    return asyncio.run(count())


def _outage(
    client: httpx.Client,
    judge: StandinProcess,
    start_standin: StartStandin,
    *,
    down_for: float,
    while_down: Any = None,
) -> tuple[dict[Track, int], int]:
    """Upload the demo predictions, kill the judge once a few items are judged, keep it down
    for `down_for` seconds (calling `while_down(ids)` meanwhile), start it again on its port,
    and wait until every run is scored. Returns the submission ids and the judge calls made."""
    ids = {}
    for track in Track:
        response = upload(client, track, demo_predictions(track))
        assert response.status_code == 201, response.text
        ids[track] = response.json()["id"]
    wait_until(lambda: _requests(judge) >= 4, 30, message="a few judge calls before the outage")
    calls_before = _requests(judge)
    judge.kill()
    down_since = time.monotonic()
    waiting_seen: dict[str, Any] = {}

    def outage_over() -> bool:
        for submission_id in ids.values():
            status = client.get(f"/api/v1/submissions/{submission_id}").json()
            assert status["status"] != "failed", status  # a judge outage never fails a run
            if status["status"] == "waiting":
                waiting_seen.setdefault("status", status)
        return "status" in waiting_seen and time.monotonic() - down_since >= down_for

    if while_down is not None:
        while_down(ids)
    wait_until(outage_over, down_for + 60, interval=0.2, message="runs waiting for the judge")
    waiting = waiting_seen["status"]["progress"]["waiting"]
    assert waiting.startswith("waiting for the judge, next try at "), waiting
    assert "(the judge was unavailable (connection error, 3 attempts))" in waiting
    assert waiting_seen["status"]["failure"] is None
    back = start_standin("--latency-ms", LATENCY_MS, port=judge.port)
    for track, submission_id in ids.items():
        status = wait_for_status(client, submission_id, {"scored", "failed"}, timeout=120)
        assert status["status"] == "scored", status
        score, f1, _ = EXPECTED[track]  # exactly the scores of a run without an outage
        assert status["result"]["score"] == pytest.approx(score)
        assert status["result"]["f1"] == (None if f1 is None else pytest.approx(f1))
        assert status["result"]["judge_error_count"] == 0
    return ids, calls_before + _requests(back)


ANSWERED = sum(answered for _, _, (answered, _) in EXPECTED.values())


def test_a_judge_outage_heals_on_postgres_redis_and_a_worker(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin("--latency-ms", LATENCY_MS)
    settings = _settings(pg_clean, tmp_path, judge, redis_url=redis_clean)
    prepare_database(settings)
    worker = start_worker(
        {
            "DATABASE_URL": pg_clean,
            "REDIS_URL": redis_clean,
            "JUDGE_BASE_URL": judge.base_url,
            "STORAGE_DIR": str(settings.storage_dir.resolve()),
            **FAST_HEALING,
        }
    )
    token = team_token(pg_clean, "outage")
    admin = team_token(pg_clean, "ops", admin=True)
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):

        def while_down(ids: dict[Track, int]) -> None:
            # What the team and the maintainers see while the judge is down.
            env = {"MMRARE_SERVER": base_url, "MMRARE_TOKEN": token}
            shown = ""

            def cli_says_waiting() -> bool:
                nonlocal shown
                shown = run_mmrare("status", str(ids[Track.T4]), env=env).stdout
                return "waiting — waiting for the judge, next try at " in shown

            wait_until(cli_says_waiting, 30, interval=0.2, message=lambda: f"`status`: {shown}")
            link = client.get(f"/api/v1/submissions/{ids[Track.T4]}").json()["status_url"]
            page = ""

            def page_says_waiting() -> bool:
                nonlocal page
                page = client.get(link).text
                return "waiting for the judge, next try at " in page

            wait_until(page_says_waiting, 30, interval=0.2, message=lambda: f"the page: {page}")
            assert "no action is needed" in page
            health: dict[str, Any] = {}

            def health_shows_the_outage() -> bool:
                nonlocal health
                health = client.get("/api/v1/admin/judge-health", headers=auth(admin)).json()
                return health["last_error_kind"] == "connection error"

            wait_until(health_shows_the_outage, 20, message=lambda: f"judge health: {health}")
            assert health["errors"] > 0 and health["last_success_at"] is not None
            admin_page = client.get("/admin", headers=auth(admin)).text
            assert "connection error" in admin_page and "Error rate, last 5 min" in admin_page

        _, calls = _outage(client, judge, start_standin, down_for=20, while_down=while_down)
        health = client.get("/api/v1/admin/judge-health", headers=auth(admin)).json()
    assert worker.is_running(), worker.describe()
    rows, pairs, total = _stored(pg_clean)
    assert rows == pairs == total  # every item stored, none twice
    # Only the call in flight when the judge died is made again (one call at a time).
    assert ANSWERED <= calls <= ANSWERED + 1, calls
    assert health["requests"] >= ANSWERED and 0 < health["error_rate"] < 1


def test_a_judge_outage_heals_embedded(
    sqlite_url: str, start_standin: StartStandin, tmp_path: Path
) -> None:
    judge = start_standin("--latency-ms", LATENCY_MS)
    settings = _settings(sqlite_url, tmp_path, judge)
    assert not settings.uses_arq
    prepare_database(settings)
    token = team_token(sqlite_url, "outage")
    admin = team_token(sqlite_url, "ops", admin=True)
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        _, calls = _outage(client, judge, start_standin, down_for=6)
        health = client.get("/api/v1/admin/judge-health", headers=auth(admin)).json()
    rows, pairs, total = _stored(sqlite_url)
    assert rows == pairs == total
    assert ANSWERED <= calls <= ANSWERED + 1, calls
    assert health["last_error_kind"] == "connection error" and health["errors"] > 0
