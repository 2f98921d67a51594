"""Every `mmrare` command and URL the README names, run the way a user runs it.

Commands run as subprocesses of the installed `mmrare` script; pages and API calls are real HTTP
requests to `mmrare serve`. `SMOKE_TESTS` maps each documented command to the test that runs
it, and `test_every_command_in_the_readme_has_a_smoke_test` parses README.md, so a command cannot
be documented without a smoke test (or named in the README without existing).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from app.cli import build_parser
from app.judge import STANDIN_MODEL
from app.judge.prompt import render_request
from app.judge.types import JudgeInput
from app.rubrics.loader import bundled_rubric
from app.standin.knobs import knob_names
from app.tracks import Track
from tests.support import MMRARE, ChildProcess, free_port, run_mmrare, wait_until

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DEMO = REPO_ROOT / "app" / "data" / "demo"
THIS = "tests/integration/test_documented_commands.py"

# Each `mmrare` command the README names -> the test that runs it as a user would.
SMOKE_TESTS: dict[str, str] = {
    "--help": f"{THIS}::test_help_describes_every_command",
    "serve": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "db upgrade": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "gold import": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "seed-reported": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "team create": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "token create": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "rejudge": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "judge-standin": f"{THIS}::test_judge_standin_serves_chat_completions",
    "worker": f"{THIS}::test_worker_runs_with_redis_and_explains_without",
    "submit": "tests/integration/test_submit_cli.py::"
    "test_submit_waits_for_the_score_and_status_reports_it",
    "status": "tests/integration/test_submit_cli.py::"
    "test_submit_waits_for_the_score_and_status_reports_it",
    "demo": "tests/integration/test_demo.py::test_smoke_scores_every_track_and_prints_the_board",
    "inputs": "tests/web/test_kit.py::test_mmrare_inputs_downloads_and_unpacks_the_kit",
}

# Each service path the README names -> the test that requests it over HTTP.
SMOKE_URLS: dict[str, str] = {
    "/about": "tests/web/test_about.py::test_the_about_page_says_what_the_service_enforces",
    "/": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "/submit": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "/analysis/domain-gap": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "/api/v1/submissions": f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score",
    "/api/v1/submissions/{id}/publish": (
        f"{THIS}::test_the_documented_path_from_an_empty_database_to_a_score"
    ),
    "/healthz": "tests/integration/test_wheel_install.py::"
    "test_the_installed_wheel_migrates_and_serves_from_any_directory",
    "/readyz": "tests/integration/test_health.py::"
    "test_readyz_names_migrations_behind_head_then_a_database_that_went_away",
}


# --- the README and the registry agree ---------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def documented_commands(text: str) -> set[str]:
    """Each `mmrare …` mention resolved against the real parser: "serve", "db upgrade", ….

    A mention that is neither a command, `--help` nor the placeholder COMMAND fails the test.
    """
    top = _subcommands(build_parser())
    found: set[str] = set()
    for match in re.finditer(r"(?<![\w-])mmrare((?: +[A-Za-z-]+)+)", text):
        words = match.group(1).split()
        first = words[0]
        if first in ("--help", "COMMAND"):
            found.add("--help")
            continue
        assert first in top, f"README names `mmrare {first}`, which is not a command"
        actions = _subcommands(top[first])
        if len(words) > 1 and words[1] in actions:
            found.add(f"{first} {words[1]}")
        else:
            found.add(first)
    return found


def documented_paths(text: str) -> set[str]:
    """Service paths the README names: its http://127.0.0.1:8000 URLs and backticked paths."""
    paths = {m.group(1) or "/" for m in re.finditer(r"http://127\.0\.0\.1:8000(/[\w/.-]*)?", text)}
    paths |= {m.group(1) for m in re.finditer(r"`(/[a-z][\w/.{}-]*)`", text)}
    return {re.sub(r"/\d+(?=/|$)", "/{id}", p) for p in paths}


def _test_exists(node: str) -> bool:
    path, name = node.split("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return callable(getattr(module, name, None))


def test_every_command_in_the_readme_has_a_smoke_test() -> None:
    commands = documented_commands(README.read_text())
    assert {"serve", "worker", "judge-standin", "db upgrade"} <= commands  # the parser works
    missing = sorted(commands - set(SMOKE_TESTS))
    assert not missing, f"README names commands without a smoke test in SMOKE_TESTS: {missing}"
    gone = sorted(node for node in SMOKE_TESTS.values() if not _test_exists(node))
    assert not gone, f"SMOKE_TESTS names tests that do not exist: {gone}"


def test_every_path_in_the_readme_has_a_smoke_test() -> None:
    paths = documented_paths(README.read_text())
    assert "/api/v1/submissions/{id}/publish" in paths  # the parser works
    missing = sorted(paths - set(SMOKE_URLS))
    assert not missing, f"README names paths without a smoke test in SMOKE_URLS: {missing}"
    gone = sorted(node for node in SMOKE_URLS.values() if not _test_exists(node))
    assert not gone, f"SMOKE_URLS names tests that do not exist: {gone}"


def test_an_unknown_documented_command_is_caught() -> None:
    with pytest.raises(AssertionError, match="`mmrare frobnicate`, which is not a command"):
        documented_commands("run `mmrare frobnicate --now`")
    assert documented_commands("`mmrare db upgrade` then `mmrare rejudge --track T1`") == {
        "db upgrade",
        "rejudge",
    }


# --- running the commands ------------------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{tmp_path}/mmrare.db",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "SECRET_KEY": "smoke-test-secret",
        **extra,
    }


def mmrare(env: Mapping[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_mmrare(*args, env=env, cwd=cwd, timeout=120)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stdout}\n{result.stderr}"
    return result.stdout


class Background:
    """Long-running `mmrare …` processes of one test, each logging to a file; all stopped at
    the end (a failed test prints their logs)."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = dict(env)
        self.children: list[ChildProcess] = []

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> ChildProcess:
        log_path = self.tmp_path / f"{args[0]}-{len(self.children)}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [str(MMRARE), *args],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**self.env, **(env or {}), "PYTHONUNBUFFERED": "1"},
            cwd=self.tmp_path,
        )
        child = ChildProcess(f"mmrare {' '.join(args)}", process, log_path, log_file)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()

    def logs(self) -> str:
        return "\n\n".join(child.describe() for child in self.children)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Background]:
    processes = Background(tmp_path, _env(tmp_path))
    try:
        yield processes
    finally:
        processes.stop_all()


def start_judge_standin(background: Background, *flags: str) -> str:
    """`mmrare judge-standin --port 0 FLAGS`; returns the base URL from its ready line."""
    judge = background.start("judge-standin", "--port", "0", *flags)
    judge.wait_for_log("mmrare stand-in judge ready on ", timeout=30)
    match = re.search(r"ready on (http://\S+/v1)", judge.log_text())
    assert match is not None, judge.describe()
    return match.group(1)


def t1_body(candidate: str) -> dict[str, object]:
    item = JudgeInput(
        item_id="T1-smoke",
        track=Track.T1,
        question="What is the final diagnosis?",
        reference_answer="Fabry disease",
        aliases=("Anderson-Fabry disease",),
        candidate=candidate,
    )
    request = render_request(
        bundled_rubric(Track.T1),
        item,
        model=STANDIN_MODEL,
        secret=b"smoke",
        max_answer_chars=2000,
        seed=1,
        max_tokens=64,
    )
    return request.body()


def test_judge_standin_serves_chat_completions(background: Background) -> None:
    base_url = start_judge_standin(background, "--latency-ms", "5")
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        models = http.get("/models").json()
        assert [m["id"] for m in models["data"]] == [STANDIN_MODEL]

        dimension_ids = list(bundled_rubric(Track.T1).dimension_ids)
        right = http.post(
            "/chat/completions", json=t1_body("Fabry disease (Anderson-Fabry disease)")
        )
        assert right.status_code == 200, right.text
        reply = right.json()
        assert reply["model"] == STANDIN_MODEL
        ratings = json.loads(reply["choices"][0]["message"]["content"])
        assert ratings == dict.fromkeys(dimension_ids, "YES")  # every reference word found

        wrong = http.post("/chat/completions", json=t1_body("Gaucher type 1"))
        ratings = json.loads(wrong.json()["choices"][0]["message"]["content"])
        assert ratings == dict.fromkeys(dimension_ids, "NO")

        other_model = {**t1_body("x"), "model": "gpt-nothing"}
        assert http.post("/chat/completions", json=other_model).status_code == 404
        stats = httpx.get(base_url.removesuffix("/v1") + "/_standin/stats").json()
        assert stats["status_counts"] == {"200": 2, "404": 1}


def test_judge_standin_refuses_bad_flags_with_the_knob_named(tmp_path: Path) -> None:
    result = mmrare(_env(tmp_path), tmp_path, "judge-standin", "--error-500-rate", "2")
    assert result.returncode == 2
    assert "error_500_rate must be in [0, 1], got 2.0" in result.stderr


def test_help_describes_every_command(tmp_path: Path) -> None:
    env = _env(tmp_path)
    commands = _subcommands(build_parser())
    overview = ok(mmrare(env, tmp_path, "--help"))
    for name in commands:
        assert name in overview
    for name in commands:
        assert f"usage: mmrare {name}" in ok(mmrare(env, tmp_path, name, "--help"))
    standin_help = ok(mmrare(env, tmp_path, "judge-standin", "--help"))
    for knob in knob_names():
        assert "--" + knob.replace("_", "-") in standin_help


def test_worker_runs_with_redis_and_explains_without(
    background: Background, tmp_path: Path, redis_clean: str
) -> None:
    refused = mmrare(_env(tmp_path), tmp_path, "worker")
    assert refused.returncode == 1
    assert "REDIS_URL is not set" in refused.stderr

    ok(mmrare(_env(tmp_path), tmp_path, "db", "upgrade"))
    worker = background.start("worker", env={"REDIS_URL": redis_clean})
    worker.wait_for_log("Starting worker", timeout=60)
    assert worker.is_running(), worker.describe()
    assert worker.stop() == 0, worker.describe()


def test_the_documented_path_from_an_empty_database_to_a_score(
    background: Background, tmp_path: Path
) -> None:
    judge_url = start_judge_standin(background)
    env = _env(tmp_path, JUDGE_BASE_URL=judge_url)
    background.env = env

    assert "latest revision" in ok(mmrare(env, tmp_path, "db", "upgrade"))
    ok(mmrare(env, tmp_path, "gold", "import", str(DEMO / "gold.jsonl")))
    ok(mmrare(env, tmp_path, "seed-reported"))
    ok(mmrare(env, tmp_path, "team", "create", "Rare Lab"))
    token = ok(mmrare(env, tmp_path, "token", "create", "--team", "Rare Lab")).strip()
    assert token and "\n" not in token

    port = free_port()
    server = background.start("serve", "--port", str(port))
    root = f"http://127.0.0.1:{port}"
    server.wait_for_log(f"serving on {root}", timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=root, timeout=10, headers=headers, trust_env=False) as http:

        def answers() -> bool:
            assert server.is_running(), server.describe()
            try:
                return http.get("/").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=30, message=lambda: f"GET {root}/ -> 200; {background.logs()}")
        page = http.get("/")
        assert "GPT-5" in page.text  # the paper's results are on the board
        assert http.get("/submit").status_code == 200
        assert http.get("/analysis/domain-gap").status_code == 200

        predictions = DEMO / "predictions" / "T1.jsonl"
        uploaded = http.post(
            "/api/v1/submissions",
            data={"track": "T1", "model": "MyVLM-7B"},
            files={"file": ("T1.jsonl", predictions.read_bytes(), "application/jsonl")},
        )
        assert uploaded.status_code in (200, 201), uploaded.text
        submission = uploaded.json()["id"]
        published = http.post(f"/api/v1/submissions/{submission}/publish")
        assert published.status_code == 200, published.text

        def scored() -> bool:
            status = http.get(f"/api/v1/submissions/{submission}").json()
            assert status["status"] not in ("failed", "cancelled"), status
            return bool(status["status"] == "scored")

        wait_until(scored, timeout=120, interval=0.2, message=lambda: background.logs())
        # the board notices the new entry within LEADERBOARD_RECHECK_SECONDS
        wait_until(
            lambda: "MyVLM-7B" in http.get("/api/v1/leaderboard").text,
            timeout=10,
            message="the published submission on /api/v1/leaderboard",
        )

    rejudge = ok(mmrare(env, tmp_path, "rejudge", "--track", "T1", "--judge-model", STANDIN_MODEL))
    assert "T1" in rejudge


def test_make_reliability_runs_the_fault_suite() -> None:
    """`make reliability` (docs/reliability.md) runs the fault tests that `make test` also runs:
    the target names them, and they are there to collect — a target that ran nothing would
    print an empty table."""
    plan = subprocess.run(
        ["make", "-n", "reliability"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert plan.returncode == 0, plan.stderr
    assert re.search(r"pytest .*tests/reliability", plan.stdout), plan.stdout
    collected = subprocess.run(
        [str(MMRARE.parent / "pytest"), "--collect-only", "-q", "tests/reliability"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    faults = [line for line in collected.stdout.splitlines() if "test_faults.py::" in line]
    assert len(faults) >= 6, collected.stdout  # one test per fault in the table
