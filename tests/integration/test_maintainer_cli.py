"""The maintainer commands docs/maintainers.md names, run as a maintainer runs them (a
subprocess on a migrated database): each answers, and each refusal says what and how to fix."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import mmrare_on as mmrare

pytestmark = pytest.mark.integration


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result
    return result.stdout + result.stderr


def test_the_maintainer_commands_answer_on_a_fresh_board(sqlite_url: str, tmp_path: Path) -> None:
    ok(mmrare(sqlite_url, "db", "upgrade"))
    assert "no rejudges yet" in ok(mmrare(sqlite_url, "rejudge", "list"))
    assert "T4: rubric" in ok(mmrare(sqlite_url, "reliability", "--track", "T4"))
    assert "0 human labels" in ok(mmrare(sqlite_url, "reliability", "--track", "T4"))
    assert "audit log is empty" in ok(mmrare(sqlite_url, "audit", "--limit", "5"))

    t2 = next(
        line for line in ok(mmrare(sqlite_url, "rubric", "list")).splitlines() if " T2 " in line
    )
    version = t2.split()[2]
    assert f"T2 already uses rubric {version}" in ok(
        mmrare(sqlite_url, "rubric", "activate", "T2", version[:12])
    )

    for action in ("status", "diff", "cancel"):
        missing = mmrare(sqlite_url, "rejudge", action, "99")
        assert missing.returncode == 1 and "rejudge 99 does not exist" in missing.stderr

    short = mmrare(sqlite_url, "rubric", "activate", "T2", "t2")
    assert short.returncode == 1
    assert "give at least 4 hex characters" in short.stderr

    labels = tmp_path / "labels.jsonl"
    row = {"submission_id": 999, "item_id": "t1-0001", "rater": "ann", "ratings": {"x": 1}}
    labels.write_text(json.dumps(row) + "\n")
    refused = mmrare(sqlite_url, "human-labels", "import", str(labels))
    assert refused.returncode == 1
    assert "labels.jsonl: 1 error; nothing was imported" in refused.stderr
    assert "line 1" in refused.stderr and "submission 999 does not exist" in refused.stderr
    assert "0 human labels" in ok(mmrare(sqlite_url, "reliability", "--track", "T1"))
