"""A worker killed with SIGKILL mid-run costs at most the judge calls in flight plus the items
judged within the last JUDGE_FLUSH_SECONDS (docs/architecture.md), measured on PostgreSQL +
Redis with arq worker processes and the stand-in judge counting repeated requests.

The batch size is set far above the run's size, so only the time bound can have written the
first worker's verdicts: without it every call made before the kill would be repeated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest

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

LATENCY_S = 0.1
SLOTS = 4
FLUSH_S = 0.5
# The stand-in answers no sooner than LATENCY_S, so SLOTS calls at a time complete at most this
# fast; what may be repeated is the calls in flight and what completed within one flush interval
# (plus the write under way, and scheduling on a busy machine: a quarter second more).
MAX_RATE = SLOTS / LATENCY_S
BOUND = SLOTS + math.ceil(MAX_RATE * (FLUSH_S + 0.25))
KILL_AFTER_CALLS = 2 * BOUND  # well past the bound: a kill without flushing by time repeats these


def test_a_killed_worker_repeats_only_in_flight_and_last_interval_calls(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin("--latency-ms", str(int(LATENCY_S * 1000)))
    run = synthetic_run(
        pg_clean,
        redis_clean,
        judge.base_url,
        tmp_path,
        items=600,
        seed=5,
        JUDGE_CONCURRENCY=str(SLOTS),
        RUN_BATCH_SIZE="100000",
        JUDGE_FLUSH_SECONDS=str(FLUSH_S),
        RUN_STALE_AFTER_SECONDS="2",
        REAPER_INTERVAL_SECONDS="1",
    )
    settings, env, data = run.settings, run.worker_env, run.answers
    stats_url = f"http://127.0.0.1:{judge.port}/_standin/stats"
    first = start_worker(env, name="first")
    token = team_token(settings.database_url, "crash")
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
            return stats["requests"] >= KILL_AFTER_CALLS

        wait_until(far_enough, 60, message=lambda: f"{KILL_AFTER_CALLS} judge calls: {stats}")
        first.kill()
        before = client.get(f"/api/v1/submissions/{submission_id}").json()
        calls_before = httpx.get(stats_url).json()["requests"]
        start_worker(env, name="second")
        final = wait_for_status(client, submission_id, {"scored", "failed"}, timeout=120)
        after = httpx.get(stats_url).json()

        clean_final = clean_result(client, data)

    assert final["status"] == "scored", final
    answered = final["coverage"]["answered"]
    assert answered > KILL_AFTER_CALLS * 2  # the kill came early enough to matter
    assert calls_before < answered, (calls_before, answered)  # killed mid-run
    unanswered = before["coverage"]["total"] - answered
    judged_before_kill = before["progress"]["items_done"] - unanswered
    assert judged_before_kill > 0, before  # written by the time bound, not the size bound
    repeated = after["repeats"]
    assert after["requests"] == answered + repeated, after  # each item judged, plus the repeats
    assert repeated <= BOUND, (repeated, BOUND, calls_before, judged_before_kill)
    assert final["progress"]["items_done"] == final["progress"]["items_total"]
    assert (
        clean_final["status"] == "scored"
        and after["requests"] == (httpx.get(stats_url).json()["requests"])
    )
    assert final["result"] == clean_final["result"]
