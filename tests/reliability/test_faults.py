"""The fault suite (`make reliability`): one upload judged by arq worker processes on a private
PostgreSQL and a private Redis while one fault is injected a quarter of the way through. Every
fault must end with the run scored, no item lost, none written twice, and the clean run's exact
scores; judge calls made again and the time to recover are measured and printed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.reliability.harness import (
    REPORTS,
    FaultReport,
    PrivatePostgres,
    PrivateRedis,
    Scenario,
    run_with_fault,
)
from tests.support import StartStandin, StartWorker

pytestmark = pytest.mark.reliability

_CLEAN: dict[str, FaultReport] = {}


def _kill_worker(s: Scenario) -> None:
    s.injected = "SIGKILL to the worker mid-run; a new worker starts"
    s.kill_worker()


def _restart_redis(s: Scenario) -> None:
    s.injected = "Redis stopped and started again, empty"
    s.redis.restart()


def _flush_redis(s: Scenario) -> None:
    s.injected = "FLUSHALL: every queued job and lock gone"
    s.redis.flushall()


def _restart_postgres(s: Scenario) -> None:
    s.injected = "PostgreSQL stopped (fast) and started again"
    s.postgres.restart()


def _judge_faults(s: Scenario) -> None:
    s.injected = "20% of judge calls answered HTTP 500 from here on"
    control = f"http://127.0.0.1:{s.judges[-1].port}/_standin/control"
    httpx.post(control, json={"error_500_rate": 0.2, "seed": 5}).raise_for_status()


def _judge_down(s: Scenario) -> None:
    s.injected = "the judge killed, started again 20 s later"
    s.judge_down(20)


FAULTS: dict[str, Callable[[Scenario], None]] = {
    "worker kill -9": _kill_worker,
    "Redis restart": _restart_redis,
    "Redis FLUSHALL": _flush_redis,
    "PostgreSQL restart": _restart_postgres,
    "20% judge faults": _judge_faults,
    "judge down 20 s": _judge_down,
}


def _run(
    name: str,
    fault: Callable[[Scenario], None] | None,
    services: tuple[PrivateRedis, PrivatePostgres],
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> FaultReport:
    redis, postgres = services
    if "clean" not in _CLEAN and fault is not None:  # run alone (-k): measure the clean run first
        _run("clean", None, services, start_standin, start_worker, tmp_path / "clean")
    report = run_with_fault(
        name,
        fault,
        redis=redis,
        postgres=postgres,
        start_standin=start_standin,
        start_worker=start_worker,
        tmp_path=tmp_path,
        clean=_CLEAN.get("clean"),
    )
    if fault is None:
        _CLEAN["clean"] = report
    REPORTS.append(report)
    return report


def test_clean_run(
    services: tuple[PrivateRedis, PrivatePostgres],
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    report = _run("clean", None, services, start_standin, start_worker, tmp_path)
    assert report.status == "scored", report
    assert report.lost == report.written_twice == 0, report


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault(
    name: str,
    services: tuple[PrivateRedis, PrivatePostgres],
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    report = _run(name, FAULTS[name], services, start_standin, start_worker, tmp_path)
    assert report.status == "scored", report
    assert report.lost == 0, report
    assert report.written_twice == 0, report
    assert report.same_scores, (report.scores, _CLEAN["clean"].scores)
