"""Friendly start-up: a refused setting is a line naming it (exit 1, no traceback, never its
value), a busy port is one line naming the port and the flag that changes it, and the demo
refuses an unknown service on its judge port but uses a stand-in judge of ours that already
runs there. Each case runs the command as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import StandinProcess, free_port, run_mmrare

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_refused_settings_are_named_one_a_line_and_never_echoed(tmp_path: Path) -> None:
    secret = "not-a-number-but-a-secret"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/mmrare.db",
        "JUDGE_CONCURRENCY": secret,
        "S3_PREFIX": "board\x01",
    }
    result = run_mmrare("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and secret not in result.stderr
    lines = sorted(result.stderr.removeprefix("mmrare: ").splitlines())
    assert result.stderr.startswith("mmrare: ") and len(lines) == 2, result.stderr
    assert lines[0].startswith("JUDGE_CONCURRENCY: Input should be a valid integer")
    assert lines[1].startswith("S3_PREFIX holds U+0001 (a control character)")
    assert not (tmp_path / "mmrare.db").exists()  # nothing was done


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("S3_ENDPOINT_URL", "not a url"),
        ("S3_ENDPOINT_URL", "ftp://files.example"),
        ("S3_ENDPOINT_URL", "http://minio:99999"),
        ("S3_BUCKET", "no spaces allowed"),
        ("S3_REGION", "us east"),
    ],
)
def test_an_unusable_s3_setting_stops_a_command_by_name(
    tmp_path: Path, setting: str, value: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/mmrare.db",
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": "files",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        setting: value,
    }
    result = run_mmrare("gold", "import", str(tmp_path), env=env, cwd=tmp_path)
    assert result.returncode == 1, result
    assert result.stderr.startswith(f"mmrare: {setting} is not "), result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


class _OtherService(BaseHTTPRequestHandler):
    """Answers like some other OpenAI-compatible server: not our stand-in."""

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "someone-elses-model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unknown_service() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def demo_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "REDIS_URL": "",
    }


def assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmrare: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_serve_on_a_busy_port_says_so_in_one_line(busy_port: int, tmp_path: Path) -> None:
    result = run_mmrare("serve", "--port", str(busy_port), env=demo_env(tmp_path))
    assert_one_line(result, f"port {busy_port} on 127.0.0.1 is already in use", "--port N")


def test_demo_on_a_busy_port_says_so_before_any_work(busy_port: int, tmp_path: Path) -> None:
    args = ("demo", "--port", str(busy_port), "--judge-port", str(free_port()))
    result = run_mmrare(*args, env=demo_env(tmp_path))
    assert_one_line(result, f"port {busy_port} on 127.0.0.1 is already in use", "--port N")
    assert result.stdout == "" and not (tmp_path / "demo.db").exists()


def test_make_demo_on_a_busy_port_prints_no_traceback(busy_port: int, tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "demo", f"ARGS=--port {busy_port}"],
        cwd=REPO_ROOT,
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("mmrare: ")]
    assert len(ours) == 1 and f"port {busy_port} on 127.0.0.1 is already in use" in ours[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_refuses_an_unknown_service_on_the_judge_port(
    unknown_service: int, tmp_path: Path
) -> None:
    args = ("demo", "--smoke", "--port", str(free_port()), "--judge-port", str(unknown_service))
    result = run_mmrare(*args, env=demo_env(tmp_path))
    assert_one_line(
        result, f"port {unknown_service} is in use by something that is not", "--judge-port N"
    )
    assert result.stdout == ""


def test_demo_uses_a_stand_in_judge_of_ours_already_on_the_judge_port(
    standin_judge: StandinProcess, tmp_path: Path
) -> None:
    args = ("demo", "--smoke", "--port", str(free_port()), "--judge-port", str(standin_judge.port))
    result = run_mmrare(*args, env=demo_env(tmp_path), timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"on port {standin_judge.port}: already running, used" in result.stdout
    for track in ("T1", "T2", "T3", "T4"):
        assert f"{track}: scored" in result.stdout
