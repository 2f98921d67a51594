"""The fault suite's private Redis and PostgreSQL (one pair per session) and its printed
table: `make reliability` runs this directory and prints one row per fault at the end."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _unavailable as unavailable
from tests.reliability.harness import (
    REPORTS,
    PrivatePostgres,
    PrivateRedis,
    input_counts,
    table,
)

TESTS_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def services() -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    """Servers of the suite's own: restarting them disturbs no other test or process. Without
    redis-server or PostgreSQL's server binaries: skipped locally, failed under CI=true."""
    redis = PrivateRedis()
    postgres: PrivatePostgres | None = None
    try:
        try:
            redis.start()
            postgres = PrivatePostgres()
            postgres.init()
        except (OSError, RuntimeError, subprocess.SubprocessError, AssertionError) as exc:
            unavailable(f"the fault suite cannot start its private servers: {exc!r}")
        yield redis, postgres
    finally:
        if postgres is not None:
            postgres.remove()
        redis.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    terminalreporter.write_sep("=", "reliability: one upload per fault, arq worker processes")
    terminalreporter.write_line(table(REPORTS))
    counts = ", ".join(f"{name}: {n}" for name, n in input_counts(TESTS_ROOT).items())
    terminalreporter.write_line(f"hostile inputs and fuzzing — {counts}")
