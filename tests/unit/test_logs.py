"""Log lines: JSON or text, quiet by default, and a job's ids on every line it writes."""

import asyncio
import json
import logging

import pytest

from app.observability.logs import (
    CHATTY_LIBRARIES,
    JobContextFilter,
    JsonFormatter,
    TextFormatter,
    bind_job,
    logging_config,
)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("app.services.judging", logging.INFO, __file__, 1, message, (), None)


def _stamped(message: str, run_id: int | None, submission_id: int | None) -> logging.LogRecord:
    record = _record(message)
    record.run_id = run_id
    record.submission_id = submission_id
    return record


def test_json_lines_carry_the_job_ids_and_parse() -> None:
    line = JsonFormatter().format(_stamped('run 7: "scored" ✓', 7, 3))
    entry = json.loads(line)
    assert entry["message"] == 'run 7: "scored" ✓'
    assert (entry["run_id"], entry["submission_id"]) == (7, 3)
    assert entry["level"] == "INFO" and entry["logger"] == "app.services.judging"
    assert entry["time"].endswith("+00:00")


def test_lines_outside_a_job_have_no_ids() -> None:
    assert "run_id" not in json.loads(JsonFormatter().format(_stamped("up", None, None)))
    assert TextFormatter().format(_stamped("up", None, None)).endswith("app.services.judging: up")
    assert TextFormatter().format(_stamped("x", 5, 2)).endswith("x [run_id=5 submission_id=2]")


def test_bound_ids_stay_inside_their_own_task() -> None:
    job_filter = JobContextFilter()

    async def job(run_id: int) -> tuple[object, object]:
        bind_job(run_id=run_id)
        await asyncio.sleep(0)
        bind_job(submission_id=run_id * 10)
        record = _record("line")
        job_filter.filter(record)
        return record.run_id, record.submission_id

    async def both() -> list[tuple[object, object]]:
        return list(await asyncio.gather(job(1), job(2)))

    assert asyncio.run(both()) == [(1, 10), (2, 20)]
    outside = _record("outside")
    job_filter.filter(outside)
    assert (outside.run_id, outside.submission_id) == (None, None)


@pytest.mark.parametrize(
    ("verbose", "service", "root", "libraries"),
    [
        (0, False, "WARNING", "WARNING"),
        (0, True, "INFO", "WARNING"),
        (1, False, "INFO", "INFO"),
        (2, False, "DEBUG", "DEBUG"),
    ],
)
def test_levels(verbose: int, service: bool, root: str, libraries: str) -> None:
    config = logging_config("text", verbose=verbose, service=service)
    assert config["root"]["level"] == root
    for name in CHATTY_LIBRARIES:
        assert config["loggers"][name]["level"] == libraries
