"""What operators see, over real processes: /metrics from `mmrare serve --workers 2` (summed
over its uvicorn workers) and from `mmrare worker --metrics-port`, JSON log lines stamped with
the run and submission, and a quiet command line."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.tracks import Track
from tests.integration.helpers import (
    auth,
    demo_predictions,
    prepare_database,
    team_token,
    upload,
    wait_for_status,
)
from tests.support import (
    MMRARE,
    ChildProcess,
    StandinProcess,
    free_port,
    run_mmrare,
    spawn,
    wait_until,
)

pytestmark = pytest.mark.integration

_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$", re.M)


def samples(text: str, name: str) -> dict[str, float]:
    """`labels → value` for every sample of one metric in an exposition text."""
    return {
        match["labels"] or "": float(match["value"])
        for match in _SAMPLE.finditer(text)
        if match["name"] == name
    }


def _spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> ChildProcess:
    process, log_file = spawn(argv, env=env, log_path=log_path, cwd=log_path.parent)
    return ChildProcess(name=name, process=process, log_path=log_path, log_file=log_file)


@pytest.fixture
def children() -> Iterator[list[ChildProcess]]:
    started: list[ChildProcess] = []
    yield started
    for child in reversed(started):
        child.stop()


def _get(url: str) -> httpx.Response:
    # A new connection each time, so requests spread over the server's worker processes.
    return httpx.get(url, timeout=10, trust_env=False, headers={"Connection": "close"})


def _answers(url: str, child: ChildProcess) -> bool:
    if not child.is_running():
        raise AssertionError(child.describe())
    try:
        return _get(url).status_code == 200
    except httpx.TransportError:
        return False


def test_metrics_and_job_logs_across_processes(
    pg_clean: str,
    redis_clean: str,
    standin_judge: StandinProcess,
    tmp_path: Path,
    children: list[ChildProcess],
) -> None:
    postgres_url = pg_clean  # counts below are of this test's rows only
    settings = Settings(database_url=postgres_url, storage_dir=tmp_path / "uploads")
    prepare_database(settings)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_clean,
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "JUDGE_BASE_URL": standin_judge.base_url,
        "LOG_FORMAT": "json",
        "JUDGE_GLOBAL_CONCURRENCY": "24",
    }
    api_port, worker_port = free_port(), free_port()
    api = _spawn(
        "mmrare serve --workers 2",
        [str(MMRARE), "serve", "--port", str(api_port), "--workers", "2"],
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        tmp_path / "api.log",
    )
    children.append(api)
    worker = _spawn(
        "mmrare worker --metrics-port",
        [str(MMRARE), "worker", "--metrics-port", str(worker_port)],
        env,
        tmp_path / "worker.log",
    )
    children.append(worker)
    base = f"http://127.0.0.1:{api_port}"
    worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
    wait_until(lambda: _answers(f"{base}/metrics", api), timeout=60, message=api.describe)
    wait_until(lambda: _answers(worker_metrics, worker), timeout=60, message=worker.describe)

    token = team_token(postgres_url, "ops-team")
    with httpx.Client(base_url=base, timeout=30, trust_env=False, headers=auth(token)) as client:
        response = upload(client, Track.T1, demo_predictions(Track.T1), model="ops-model")
        assert response.status_code == 201, response.text
        submission_id = response.json()["id"]
        status = wait_for_status(client, submission_id, {"scored", "failed"})
        assert status["status"] == "scored", status
        run_id = status.get("run_id")

    # The state gauges come from the database: every process, every scrape says the same.
    for url in (f"{base}/metrics", worker_metrics):
        text = _get(url).text
        assert samples(text, "mmrare_submissions")['state="accepted"'] == 1
        assert samples(text, "mmrare_runs")['status="scored"'] == 1
        assert samples(text, "mmrare_runs_in_flight")[""] == 0
        assert samples(text, "mmrare_queue_depth")[""] == 0

    # The worker judged the items: verdicts, latencies, and no permit left held.
    text = _get(worker_metrics).text
    judged = samples(text, "mmrare_items_judged_total")
    assert judged['cached="false",outcome="verdict"'] >= 11
    assert samples(text, "mmrare_judge_latency_seconds_count")[""] >= 11
    assert samples(text, "mmrare_judge_permits_in_use")[""] == 0
    assert samples(text, "mmrare_judge_global_permits")[""] == 24
    assert samples(text, "mmrare_judge_global_permits_in_use")[""] == 0

    # View-cache look-ups counted in two uvicorn processes, summed by whichever one is scraped.
    def view_lookups() -> float:
        values = samples(_get(f"{base}/metrics").text, "mmrare_cache_lookups_total")
        return sum(value for labels, value in values.items() if 'cache="view"' in labels)

    before = view_lookups()
    requests = 12
    for _ in range(requests):
        assert _get(f"{base}/api/v1/leaderboard").status_code == 200
    scraped = {view_lookups() for _ in range(6)}
    assert len(scraped) == 1, f"scrapes of different workers disagree: {scraped}"
    # Each request looks its view up at least once (a cold cache in a new process, more).
    assert scraped.pop() - before >= requests
    assert len(list(metrics_dir.glob("counter_*.db"))) >= 2  # both workers write their counts

    # Every line the job wrote names its run and submission.
    worker.stop()
    job_lines = [
        entry
        for entry in map(json.loads, worker.log_text().splitlines())
        if entry["logger"] == "app.services.judging"
    ]
    assert len(job_lines) >= 2, worker.log_text()
    for entry in job_lines:
        assert entry["submission_id"] == submission_id, entry
        assert entry["run_id"] is not None and (run_id is None or entry["run_id"] == run_id)


def test_commands_are_quiet_unless_asked(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/quiet.db"}
    env.pop("LOG_FORMAT", None)
    quiet = run_mmrare("db", "upgrade", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    assert "latest revision" in quiet.stdout

    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/verbose.db"
    verbose = run_mmrare("-v", "db", "upgrade", env={**env, "LOG_FORMAT": "json"})
    assert verbose.returncode == 0, verbose.stderr
    entries = [json.loads(line) for line in verbose.stderr.splitlines()]
    assert any(
        entry["logger"].startswith("alembic") and "Running upgrade" in entry["message"]
        for entry in entries
    ), verbose.stderr


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    env.pop("REDIS_URL", None)
    result = run_mmrare("serve", "--workers", "2", env=env)
    assert result.returncode == 1
    assert "--workers above 1 needs REDIS_URL" in result.stderr
    assert sys.executable  # the command ran as a user runs it, through its console script
