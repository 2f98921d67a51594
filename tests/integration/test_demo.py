"""`mmrare demo --smoke`: the one-command path a newcomer takes, run as they would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import free_port


def _smoke(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "REDIS_URL": "",  # the demo is the embedded default whatever the environment says
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--smoke",
            "--port",
            str(free_port()),
            "--judge-port",
            str(free_port()),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_smoke_scores_every_track_and_prints_the_board(tmp_path: Path) -> None:
    result = _smoke(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for track in ("T1", "T2", "T3", "T4"):
        assert f"{track}: scored" in result.stdout
    assert "demo-sample-model" in result.stdout and "judged" in result.stdout
    assert "GPT-5" in result.stdout and "reported" in result.stdout

    again = _smoke(tmp_path)  # a second run finds everything in place and changes nothing
    assert again.returncode == 0, again.stdout + again.stderr
    assert "paper results: 0 added, 0 updated" in again.stdout
