"""`mmrare submit` and `mmrare status` as a developer runs them: a real process talking over
HTTP to the service (uvicorn on loopback, in-process jobs, the reference judge)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from tests.integration.helpers import (
    DEMO_PREDICTIONS,
    assert_no_gold,
    auth,
    prepare_database,
    serve,
    team_token,
)
from tests.support import StandinProcess, run_mmrare

pytestmark = pytest.mark.integration


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
    """No MMRARE_* from the caller's shell: each test says where the server is."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMRARE_")}
    return run_mmrare(*args, env={**base, **(env or {})}, timeout=120)


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
    assert "dimensions: Exact diagnosis match " in status.stdout  # the rubric's names, not ids
    assert "Disease category " in status.stdout and "disease_category" not in status.stdout
    hidden = mmrare("status", "1", "--server", server.url, "--token", server.other_token)
    assert hidden.returncode == 1
    assert "server answered 404: submission 1 was not found" in hidden.stderr


def test_submission_actions_say_what_they_changed(
    sqlite_url: str, start_standin: Callable[..., StandinProcess], tmp_path: Path
) -> None:
    judge = start_standin("--latency-ms", "3000")  # slow enough to cancel while judging
    settings = Settings(
        database_url=sqlite_url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=judge.base_url,
        judge_concurrency=1,
        secret_key="test-secret",
    )
    prepare_database(settings)
    token = team_token(sqlite_url, "cli-team")
    with serve(settings) as url:
        env = {"MMRARE_SERVER": url, "MMRARE_TOKEN": token}
        sent = mmrare(
            "submit",
            str(DEMO_PREDICTIONS / "T1.jsonl"),
            "--track",
            "T1",
            "--model",
            "cli-vlm",
            env=env,
        )
        assert sent.returncode == 0, sent.stderr
        head = "T1 submission 1 (model cli-vlm)"
        cancel = mmrare("submission", "cancel", "1", env=env)
        assert cancel.returncode == 0, cancel.stderr
        assert cancel.stdout == (
            f"cancelled {head}: items judged so far are kept; `mmrare submission requeue 1`\n"
        )
        requeue = mmrare("submission", "requeue", "1", env=env)
        assert requeue.returncode == 0, requeue.stderr
        assert re.fullmatch(
            rf"re-queued {re.escape(head)}: (queued|judging); items stored before are kept\n",
            requeue.stdout,
        )
        publish = mmrare("submission", "publish", "1", env=env)
        assert (
            publish.stdout == f"published {head}: it shows on the leaderboard once it is scored\n"
        )
        again = mmrare("submission", "cancel", "1", env=env)
        assert (
            again.stdout
            == f"cancelled {head}: items judged so far are kept; `mmrare submission requeue 1`\n"
        )
        twice = mmrare("submission", "cancel", "1", env=env)
        assert twice.returncode == 1 and "only a queued, judging" in twice.stderr


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


def test_empty_predictions_and_judge_inconsistencies_reach_the_submitter(
    server: Server, tmp_path: Path
) -> None:
    """Empty or blank answers count as missing (never judged) and are reported beside coverage;
    the run's result counts verdicts that contradict themselves (exact match without the
    category), as the stored item verdicts say."""
    rows = [json.loads(line) for line in (DEMO_PREDICTIONS / "T1.jsonl").read_text().splitlines()]
    rows[0]["prediction"] = ""
    rows[1]["prediction"] = " \t\n "
    blank_ids = {rows[0]["id"], rows[1]["id"]}
    path = tmp_path / "with-empty.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    done = mmrare(
        "submit", str(path), "--track", "T1", "--model", "cli-empty", "--server", server.url,
        "--token", server.token, "--wait", "--interval", "0.2", "--timeout", "90",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "HTTP Request" not in done.stderr  # the client's own lines only, no httpx log
    answered = len(rows) - 2
    assert f"coverage {answered}/12 (2 empty, scored 0)" in done.stdout, done.stdout

    status = httpx.get(f"{server.url}/api/v1/submissions/1", headers=auth(server.token)).json()
    assert status["empty_predictions"] == 2
    assert status["coverage"]["answered"] == answered
    page = httpx.get(server.url + status["status_url"])
    assert "2 empty prediction(s), counted as missing" in page.text

    items = stored_items(server.settings, run_id=1)
    assert {i for i, (missing, _) in items.items() if missing} >= blank_ids
    contradicting = sum(
        1
        for _, ratings in items.values()
        if ratings and ratings["exact_match"] == 1 and ratings["disease_category"] == 0
    )
    assert contradicting > 0, "the stand-in's verdicts on these answers include contradictions"
    assert status["result"]["judge_inconsistencies"] == contradicting


def stored_items(settings: Settings, run_id: int) -> dict[str, tuple[bool, dict[str, int] | None]]:
    """item id -> (missing, ratings) as the run stored them (read straight from the database)."""
    database = make_url(settings.database_url).database
    assert database
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT item_id, missing, ratings FROM item_results WHERE run_id = ?", (run_id,)
        ).fetchall()
    return {item: (bool(missing), json.loads(r) if r else None) for item, missing, r in rows}
