"""`mmrare submit` and `mmrare status` as a developer runs them: a real process talking over
HTTP to the service (uvicorn on loopback, in-process jobs, the reference judge)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.integration.helpers import (
    DEMO_PREDICTIONS,
    assert_no_gold,
    auth,
    prepare_database,
    serve,
    team_token,
)
from tests.support import StandinProcess

pytestmark = pytest.mark.integration

MMRARE = Path(sys.executable).parent / "mmrare"  # the installed console script


@dataclass
class Server:
    url: str
    token: str
    other_token: str
    settings: Settings


@pytest.fixture
def server(sqlite_url: str, standin_judge: StandinProcess, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(
        database_url=sqlite_url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=standin_judge.base_url,
        judge_backoff_base_seconds=0.01,
        judge_concurrency=2,
        secret_key="test-secret",
    )
    prepare_database(settings)
    token, other = team_token(sqlite_url, "cli-team"), team_token(sqlite_url, "other-team")
    with serve(settings) as url:
        yield Server(url, token, other, settings)


def mmrare(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMRARE_")}
    return subprocess.run(
        [str(MMRARE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,  # no TTY: the progress bar prints plain lines
    )


def test_submit_waits_for_the_score_and_status_reports_it(server: Server) -> None:
    done = mmrare(
        "submit",
        str(DEMO_PREDICTIONS / "T1.jsonl"),
        "--track",
        "T1",
        "--model",
        "cli-vlm",
        "--server",
        server.url,
        "--token",
        server.token,
        "--wait",
        "--interval",
        "0.2",
        "--timeout",
        "90",
    )
    assert done.returncode == 0, done.stderr
    assert "T1.jsonl: valid — T1: 11" in done.stderr  # validated locally first
    progress = [line for line in done.stderr.splitlines() if line.startswith("T1 #1 ")]
    assert progress and progress[-1].startswith("T1 #1 scored    [" + "#" * 30 + "] 12/12 100%")
    assert "T1 submission 1 (model cli-vlm): queued" in done.stdout
    assert "T1 submission 1 (model cli-vlm): scored · score 50.0 · T1 F1 62.9" in done.stdout, (
        done.stdout
    )
    assert "coverage 11/12" in done.stdout and "status page: http" in done.stdout

    # What the submitter sees of a scored run: aggregates, nothing about single gold items.
    json_status = httpx.get(f"{server.url}/api/v1/submissions/1", headers=auth(server.token))
    page = httpx.get(server.url + json_status.json()["status_url"])
    assert json_status.status_code == page.status_code == 200
    assert "Track score <strong>50.0</strong>" in page.text
    for text in (json_status.text, page.text):
        assert_no_gold(text)

    status = mmrare("status", "1", env={"MMRARE_SERVER": server.url, "MMRARE_TOKEN": server.token})
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("T1 submission 1 (model cli-vlm): scored · score 50.0")
    hidden = mmrare("status", "1", "--server", server.url, "--token", server.other_token)
    assert hidden.returncode == 1
    assert "server answered 404: submission 1 was not found" in hidden.stderr


def test_an_invalid_file_is_refused_locally_before_uploading(
    server: Server, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "t1-0001", "prediction": ["a", "b"]}\n{"id": "t1-0002"}\n')
    result = mmrare(
        "submit",
        str(bad),
        "--track",
        "T1",
        "--model",
        "cli-vlm",
        "--server",
        server.url,
        "--token",
        server.token,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "mmrare: bad.jsonl: 2 errors; the file was not accepted",
        "bad.jsonl line 1 (id 't1-0001'): 'prediction' must be a string — got a list; join "
        "the parts into one string",
        "bad.jsonl line 2 (id 't1-0002'): missing 'prediction' — add \"prediction\": "
        '"<your answer>"',
        "(checked locally; nothing was uploaded)",
    ]
    quota = mmrare("status", "1", "--server", server.url, "--token", server.token)
    assert quota.returncode == 1 and "404" in quota.stderr  # nothing reached the server


def test_server_refusals_exit_1_with_the_servers_message(server: Server, tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text(json.dumps({"id": "t9-9999", "prediction": "x"}) + "\n")
    rejected = mmrare(
        "submit",
        str(unknown),
        "--track",
        "T1",
        "--model",
        "cli-vlm",
        "--server",
        server.url,
        "--token",
        server.token,
    )
    assert rejected.returncode == 1
    assert "mmrare: server answered 422: the file has 1 error(s) and was not accepted" in (
        rejected.stderr
    )
    assert "unknown.jsonl line 1 (id 't9-9999'): unknown id" in rejected.stderr

    foreign = mmrare(
        "submit",
        str(DEMO_PREDICTIONS / "T2.jsonl"),
        "--track",
        "T2",
        "--model",
        "cli-vlm",
        "--server",
        server.url,
        "--token",
        server.other_token,
    )
    assert foreign.returncode == 1
    assert "server answered 403: model 'cli-vlm' is registered by another team" in foreign.stderr

    no_token = mmrare("submit", str(unknown), "--track", "T1", "--model", "x")
    assert no_token.returncode == 1
    assert no_token.stderr.startswith("mmrare: no API token: pass --token or set MMRARE_TOKEN")
