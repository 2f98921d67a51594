"""A rejudge started from the command line against `mmrare serve` without Redis: the command
cannot reach the server's in-process queue, and the server picks its runs up within a second
or two — not when the next maintenance pass comes (REAPER_INTERVAL_SECONDS, 60 s here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
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
from tests.support import StandinProcess, run_mmrare, wait_until

pytestmark = pytest.mark.integration


def test_a_cli_rejudge_runs_at_once_on_an_in_process_server(
    sqlite_url: str, standin_judge: StandinProcess, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=standin_judge.base_url,
        secret_key="test-secret",
        reaper_interval_seconds=600,  # only the serve's pick-up of new runs can start it in time
    )
    prepare_database(settings)
    token = team_token(sqlite_url, "alpha")
    admin = team_token(sqlite_url, "maintainers", admin=True)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env |= {"DATABASE_URL": sqlite_url, "STORAGE_DIR": str(settings.storage_dir)}
    with serve(settings) as url, httpx.Client(base_url=url, headers=auth(token)) as client:
        sent = upload(client, Track.T1, demo_predictions(Track.T1))
        assert sent.status_code == 201, sent.text
        wait_for_status(client, sent.json()["id"], {"scored"})
        publish(client, sent.json()["id"])

        started = run_mmrare("rejudge", "--track", "T1", env=env)
        assert started.returncode == 0, started.stderr
        assert "a running `mmrare serve` (no REDIS_URL) starts them within a second or two" in (
            started.stdout
        )
        latest: dict[str, Any] = {}

        def completed() -> bool:
            nonlocal latest
            rows = client.get("/api/v1/admin/rejudges", headers=auth(admin)).json()
            latest = rows[0]
            return bool(latest["status"] == "completed")

        wait_until(completed, 30, 0.1, lambda: f"the rejudge to complete: {latest}")
        assert latest["progress"]["submissions_done"] == 1
