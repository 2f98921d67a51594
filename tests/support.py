"""Helpers shared by the tests: free ports, polling with a deadline, handles on child processes,
the stand-in judge served in a background thread, and an S3-compatible server.

Tests never sleep for a fixed time: they poll a condition until it holds or a deadline passes,
and the failure message says what was awaited (and, for child processes, what they logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import httpx
import psycopg
import uvicorn
from psycopg import sql

from app.config import StorageBackend
from app.db import models  # noqa: F401  (registers every table on Base.metadata)
from app.db.base import Base
from app.standin.server import StandinJudge, bind

Message = str | Callable[[], str]
"""A failure message, or a function building it (e.g. to append a log read at failure time)."""


REPO_ROOT = Path(__file__).resolve().parents[1]
MMRARE = Path(sys.executable).parent / "mmrare"  # the installed console script


def run_mmrare(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`mmrare ARGS` as a user runs it: its own process, no TTY, output captured. `env` is the
    child's whole environment (default: this process's)."""
    return subprocess.run(
        [str(MMRARE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def mmrare_on(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`mmrare ARGS` against one database (DATABASE_URL), the rest of the environment as is."""
    return run_mmrare(*args, env={**os.environ, "DATABASE_URL": database_url})


def spawn(
    argv: list[str], *, env: Mapping[str, str], log_path: Path, cwd: Path
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start `argv` with stdout and stderr in `log_path`; the repository is importable."""
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": python_path, **env}
    log_file = log_path.open("wb")
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
        )
    except BaseException:
        log_file.close()
        raise
    return process, log_file


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it; a race is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _render(message: Message) -> str:
    return message() if callable(message) else message


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: Message = "condition",
) -> None:
    """Poll `predicate` until it returns true; fail after `timeout` seconds with `message`."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {_render(message)}")
        time.sleep(interval)


async def wait_for(
    predicate: Callable[[], Awaitable[bool]],
    timeout: float = 10.0,  # noqa: ASYNC109  (the deadline is the assertion, not a cancellation)
    interval: float = 0.05,
    message: Message = "condition",
) -> None:
    """The async form of `wait_until`: await `predicate()` until it returns true."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {_render(message)}")
        await asyncio.sleep(interval)


@dataclass
class ChildProcess:
    """A child OS process whose stdout and stderr go to one log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self, max_chars: int = 20_000) -> str:
        """Exit status and (the end of) the log, for failure messages."""
        code = self.process.poll()
        state = "running" if code is None else f"exited with {code}"
        log = self.log_text().rstrip() or "(empty)"
        if len(log) > max_chars:
            log = f"[... {len(log) - max_chars} characters cut ...]\n{log[-max_chars:]}"
        return f"{self.name} (pid {self.pid}) {state}; log {self.log_path}:\n{log}"

    def wait_for_log(self, text: str, timeout: float = 20.0) -> None:
        """Wait until `text` appears in the log; fail early if the process dies first."""

        def seen() -> bool:
            if text in self.log_text():
                return True
            if not self.is_running():
                raise AssertionError(f"{text!r} never logged: {self.describe()}")
            return False

        wait_until(seen, timeout, message=lambda: f"{text!r} in the log of {self.describe()}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash, as far as others can tell)."""
        if self.is_running():
            self.process.kill()
        self.process.wait(timeout=10)
        self.close_log()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait `timeout` seconds for a clean exit, then SIGKILL. Returns the exit code."""
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.close_log()
        code = self.process.returncode
        assert code is not None
        return code

    def close_log(self) -> None:
        if self.log_file is not None:
            with contextlib.suppress(OSError):
                self.log_file.close()


@dataclass
class StandinProcess(ChildProcess):
    """The reference judge (`python -m app.standin`) listening on 127.0.0.1:`port`."""

    port: int = 0
    model: str = ""

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL to use as JUDGE_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"


@dataclass
class WorkerProcess(ChildProcess):
    """An arq worker process (`python -m arq workers.main.WorkerSettings`)."""

    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiProcess(ChildProcess):
    """`mmrare serve` listening on 127.0.0.1:`port`."""

    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class StartApi(Protocol):
    """Type of the `start_api` fixture: `start_api({"DATABASE_URL": ..., ...}, name="api-1")`."""

    def __call__(self, env: Mapping[str, str], *, name: str = "api") -> ApiProcess: ...


class StartStandin(Protocol):
    """Type of the `start_standin` fixture: `start_standin("--latency-ms", "50")`."""

    def __call__(self, *args: str, port: int | None = None) -> StandinProcess: ...


class StartWorker(Protocol):
    """Type of the `start_worker` fixture: `start_worker({"DATABASE_URL": ..., ...})`."""

    def __call__(
        self,
        env: Mapping[str, str],
        *,
        name: str = "worker",
        burst: bool = False,
        command: bool = False,
    ) -> WorkerProcess: ...


class BackgroundServer:
    """A server run in a background thread of this process: `with Server() as server:` starts
    it (`start()` returns it) and stops it after."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class StandinThread(BackgroundServer):
    """The stand-in judge served by uvicorn in a background thread of this process.

    `with StandinThread(latency_ms=50) as judge: judge.base_url …`; `judge.app` is the live
    StandinJudge (its knobs can also be changed over HTTP at `/_standin/control`). Port 0 (the
    default) picks a free port.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        self.app = StandinJudge(**knobs)
        self.host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self, timeout: float = 10.0) -> Self:
        sock = bind(self.host, self._port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="standin", daemon=True
        )
        thread.start()

        def started() -> bool:
            if not thread.is_alive():
                raise AssertionError("the stand-in judge thread exited during start-up")
            return bool(server.started)

        try:
            wait_until(started, timeout, interval=0.005, message="the stand-in judge thread")
        except AssertionError:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class S3Server(BackgroundServer):
    """An S3-compatible server (moto's, over real HTTP) in a background thread on a loopback
    port, holding one empty bucket. The caller provides AWS credentials in the environment
    (any values: the server checks none), as a deployment would.

    `with S3Server() as s3: Settings(**s3.settings(), …)`; child processes take `s3.env`.
    """

    BUCKET = "mmrare-test-files"
    REGION = "us-east-1"

    def __init__(self) -> None:
        # Imported here (boto3 too): moto takes a third of a second to import, and only the
        # tests that use a bucket should pay for it.
        from moto.server import ThreadedMotoServer

        # Port 0: the OS picks a free port when the server binds, so no other test can take it.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> Self:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.BUCKET)
        return self

    def stop(self) -> None:
        # moto's backends are this process's globals: empty them for the next test's server.
        try:
            httpx.post(f"{self.endpoint_url}/moto-api/reset", trust_env=False).raise_for_status()
        finally:
            self._server.stop()

    def client(self) -> Any:
        """A boto3 S3 client of the test's own, to look into the bucket."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.REGION)

    def keys(self) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.BUCKET)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def settings(self) -> dict[str, Any]:
        """The settings of an s3 store keeping its files in the bucket, as Settings fields."""
        return {
            "storage_backend": StorageBackend.S3,  # an enum: model_copy(update=…) validates none
            "s3_bucket": self.BUCKET,
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.REGION,
        }

    @property
    def env(self) -> dict[str, str]:
        """`settings()` as a process's environment variables."""
        return {name.upper(): str(value) for name, value in self.settings().items()}


def truncate_all(postgres_url: str) -> None:
    """Empty every application table of the database and reset its id sequences."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    if tables:
        truncate = sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(name) for name in tables)
        )
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            # A lingering transaction from an earlier test would block TRUNCATE: fail instead.
            connection.execute("SET lock_timeout = '10s'")
            connection.execute(truncate)
