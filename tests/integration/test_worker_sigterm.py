"""A worker stopped with SIGTERM (a deploy, a scale-down) stops taking jobs, writes every
verdict it has, exits within a bounded time, and leaves the rest of its run to the queue:
another worker finishes it, repeating only the calls that were in flight.

The flush interval and batch size are set far above the run, so only the stop itself can have
written the first worker's verdicts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.flushing import STOP_WRITE_SECONDS
from app.tracks import Track
from tests.integration.helpers import (
    auth,
    clean_result,
    serve,
    synthetic_run,
    team_token,
    upload,
    wait_for_status,
)
from tests.support import StartStandin, StartWorker, wait_until

pytestmark = pytest.mark.integration

LATENCY_MS = 100
SLOTS = 4
STOP_AFTER_CALLS = 40
# Cancelling the calls in flight is immediate; the rest is one database write.
EXIT_WITHIN_SECONDS = STOP_WRITE_SECONDS + 5


def test_sigterm_writes_what_was_judged_and_hands_the_rest_on(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin("--latency-ms", str(LATENCY_MS))
    run = synthetic_run(
        pg_clean,
        redis_clean,
        judge.base_url,
        tmp_path,
        items=300,
        seed=11,
        JUDGE_CONCURRENCY=str(SLOTS),
        RUN_BATCH_SIZE="100000",
        JUDGE_FLUSH_SECONDS="60",
        RUN_STALE_AFTER_SECONDS="2",
        REAPER_INTERVAL_SECONDS="1",
    )
    settings, env, data = run.settings, run.worker_env, run.answers
    stats_url = f"http://127.0.0.1:{judge.port}/_standin/stats"
    first = start_worker(env, name="first")
    token = team_token(settings.database_url, "sigterm")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        response = upload(client, Track.T1, data)
        assert response.status_code == 201, response.text
        submission_id = response.json()["id"]
        stats: dict[str, Any] = {}

        def far_enough() -> bool:
            nonlocal stats
            stats = httpx.get(stats_url).json()
            return stats["requests"] >= STOP_AFTER_CALLS

        wait_until(far_enough, 60, message=lambda: f"{STOP_AFTER_CALLS} judge calls: {stats}")
        stopping = time.monotonic()
        code = first.stop(timeout=EXIT_WITHIN_SECONDS)
        took = time.monotonic() - stopping
        at_exit = httpx.get(stats_url).json()
        before = client.get(f"/api/v1/submissions/{submission_id}").json()
        start_worker(env, name="second")
        final = wait_for_status(client, submission_id, {"scored", "failed"}, timeout=120)
        after = httpx.get(stats_url).json()
        clean_final = clean_result(client, data)

    assert code == 0 and took < EXIT_WITHIN_SECONDS, (code, took, first.log_text()[-3000:])
    assert before["status"] in {"judging", "queued"}, before  # stopped mid-run, not finished
    unanswered = before["coverage"]["total"] - final["coverage"]["answered"]
    written = before["progress"]["items_done"] - unanswered
    answered_before_stop = at_exit["requests"] - at_exit["in_flight"]
    # Every verdict the first worker received was written (only calls in flight were lost).
    assert written >= answered_before_stop - SLOTS, (written, at_exit)
    assert final["status"] == "scored", final
    assert after["repeats"] <= SLOTS, after
    assert final["progress"]["items_done"] == final["progress"]["items_total"]
    assert final["result"] == clean_final["result"]
