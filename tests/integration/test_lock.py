"""`make lock` as a maintainer runs it after editing pyproject.toml: on copies of the committed
locks it changes no pin, so the committed locks are current (and the target works)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"LOCK": "requirements.lock", "DEV_LOCK": "requirements-dev.lock"}


def requirement_lines(path: Path) -> list[str]:
    """Pins, markers and hashes: everything but the comments (which name the output path)."""
    lines = (line.split("#", 1)[0].rstrip() for line in path.read_text().splitlines())
    return [line for line in lines if line.strip()]


def test_make_lock_reproduces_the_committed_locks(tmp_path: Path) -> None:
    copies = {var: tmp_path / name for var, name in LOCKS.items()}
    for var, name in LOCKS.items():
        shutil.copyfile(REPO_ROOT / name, copies[var])
    result = subprocess.run(
        # -o: the venv is taken as up to date (the copies are newer than its stamp).
        ["make", "--no-print-directory", "-o", ".venv/.installed", "lock"]
        + [f"{var}={path}" for var, path in copies.items()],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for var, name in LOCKS.items():
        regenerated, committed = requirement_lines(copies[var]), requirement_lines(REPO_ROOT / name)
        assert regenerated == committed, f"{name} is stale: run `make lock` and commit it"
    assert re.search(r"^fastapi==", (copies["LOCK"]).read_text(), re.M)
