"""The fault suite's machinery: private Redis and PostgreSQL servers (so restarting them touches
nobody else), one upload judged by arq worker processes while a fault is injected, and the
figures measured from the database and the stand-in judge's own counters."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from app.config import Settings
from app.db.migrate import upgrade
from app.demo.synthetic import write_synthetic_bundle, write_synthetic_predictions
from app.tracks import Track
from tests.integration.helpers import auth, prepare_database, serve, team_token, upload
from tests.support import (
    StandinProcess,
    StartStandin,
    StartWorker,
    WorkerProcess,
    free_port,
    wait_until,
)

ITEMS = 160  # synthetic items over the four tracks; T1 holds the most
LATENCY_MS = "40"
WORKER_ENV = {
    "JUDGE_CONCURRENCY": "2",
    "RUN_BATCH_SIZE": "4",
    "RUN_STALE_AFTER_SECONDS": "2",
    "REAPER_INTERVAL_SECONDS": "1",
    "JUDGE_MAX_TRANSPORT_RETRIES": "3",
    "JUDGE_BACKOFF_BASE_SECONDS": "0.05",
    "JUDGE_TIMEOUT_SECONDS": "5",
    "JUDGE_OUTAGE_FIRST_DELAY_SECONDS": "0.5",
    "JUDGE_OUTAGE_MAX_DELAY_SECONDS": "4",
}
RUN_TIMEOUT = 240.0
REPORTS: list[FaultReport] = []  # filled by the tests, printed by the conftest at the end


# --- private servers -----------------------------------------------------------------------


class PrivateRedis:
    """`redis-server` on a free port, no persistence: restartable and flushable at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(self.answers, 20, 0.05, f"the private Redis on port {self.port}")

    def answers(self) -> bool:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return done.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def flushall(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "FLUSHALL"], check=True, capture_output=True
        )


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


class PrivatePostgres:
    """A cluster of its own (initdb into a temporary directory, trust auth, a free port). As
    root it runs as the `postgres` user: the server refuses to run as root."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mmrare-reliability-pg-"))
        self.data = self.dir / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self) -> str:
        name = f"mmrare_fault_{os.getpid()}_{time.monotonic_ns()}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        return url


# --- one faulted upload --------------------------------------------------------------------


@dataclass
class FaultReport:
    fault: str
    injected: str
    items: int
    lost: int  # items of the run without a stored result
    written_twice: int  # stored rows beyond one per (run, item)
    judge_calls: int  # chat requests the stand-in judge received
    repeated: int  # judge calls beyond the clean run's
    recover_seconds: float  # from the fault's end to the run scored
    same_scores: bool
    status: str
    worker_restarts: int = 0
    scores: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario:
    """What a fault function may touch while the run is judged."""

    redis: PrivateRedis
    postgres: PrivatePostgres
    database_url: str
    judges: list[StandinProcess]
    workers: list[WorkerProcess]
    start_standin: StartStandin
    start_worker: StartWorker
    worker_env: dict[str, str]
    judged: Callable[[], int]
    restarts: int = 0
    injected: str = ""
    fault_ended: float = 0.0
    judge_calls_lost: int = 0  # counted by judges that were killed (their stats died with them)

    def wait_judged(self, count: int) -> None:
        wait_until(lambda: self.judged() >= count, 60, 0.05, f"{count} items judged")

    def hold(self, seconds: float) -> None:
        """Keep a fault in place for `seconds` (workers stay supervised meanwhile)."""
        started = time.monotonic()

        def held() -> bool:
            self.supervise()
            return time.monotonic() - started >= seconds

        wait_until(held, seconds + 30, 0.1, f"{seconds:g} s of the fault")

    def judge_down(self, seconds: float) -> None:
        judge = self.judges[-1]
        self.judge_calls_lost += _stand_in_requests(judge)
        judge.kill()
        self.judges.remove(judge)
        self.hold(seconds)
        self.judges.append(self.start_standin("--latency-ms", LATENCY_MS, port=judge.port))
        self.fault_ended = time.monotonic()

    def kill_worker(self) -> None:
        self.workers[0].kill()  # SIGKILL: no clean-up of any kind
        self.fault_ended = time.monotonic()

    def supervise(self) -> None:
        """What systemd's Restart=on-failure does for a worker that exited."""
        for index, worker in enumerate(self.workers):
            if not worker.is_running():
                self.workers[index] = self.start_worker(
                    self.worker_env, name=f"restart{self.restarts}"
                )
                self.restarts += 1


def _query(database_url: str, statement: str, *args: object) -> list[tuple[Any, ...]]:
    try:
        with psycopg.connect(database_url, connect_timeout=2) as connection:
            return list(connection.execute(statement, args).fetchall())
    except psycopg.OperationalError:
        return []  # the server is restarting: the caller polls again


def _stand_in_requests(judge: StandinProcess) -> int:
    try:
        stats = httpx.get(f"http://127.0.0.1:{judge.port}/_standin/stats", timeout=2).json()
    except httpx.HTTPError:
        return 0
    return int(stats["requests"])


def run_with_fault(
    name: str,
    fault: Callable[[Scenario], None] | None,
    *,
    redis: PrivateRedis,
    postgres: PrivatePostgres,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
    clean: FaultReport | None,
    standin_args: tuple[str, ...] = (),
) -> FaultReport:
    """Upload the synthetic T1 predictions, inject `fault` once some items are judged, and
    measure. `clean` (None for the clean run itself) is what the figures are compared with."""
    redis.flushall()
    database_url = postgres.new_database()
    bundle = write_synthetic_bundle(tmp_path / "bundle", items=ITEMS, seed=11)
    predictions = write_synthetic_predictions(bundle, tmp_path / "predictions", seed=11)
    judge = start_standin("--latency-ms", LATENCY_MS, *standin_args)
    settings = Settings(
        database_url=database_url,
        redis_url=redis.url,
        storage_dir=tmp_path / "uploads",
        judge_base_url=judge.base_url,
        secret_key="reliability-suite",
    )
    prepare_database(settings, bundle)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "JUDGE_BASE_URL": judge.base_url,
        "STORAGE_DIR": str(settings.storage_dir.resolve()),
        "SECRET_KEY": "reliability-suite",
        **WORKER_ENV,
    }
    token = team_token(database_url, "reliability")
    with (
        serve(settings) as base_url,
        httpx.Client(base_url=base_url, headers=auth(token)) as client,
    ):
        response = upload(client, Track.T1, predictions[Track.T1].read_bytes())
        assert response.status_code == 201, response.text
        answered = response.json()["coverage"]["answered"]
    unanswered = sum(1 for _ in bundle.read_text().splitlines() if '"T1"' in _) - answered

    def judged() -> int:
        rows = _query(database_url, "SELECT count(*) FROM item_results WHERE error IS NULL")
        return max(int(rows[0][0]) - unanswered, 0) if rows else 0

    scenario = Scenario(
        redis=redis,
        postgres=postgres,
        database_url=database_url,
        judges=[judge],
        workers=[start_worker(env, name="worker")],
        start_standin=start_standin,
        start_worker=start_worker,
        worker_env=env,
        judged=judged,
        injected="nothing",
    )
    if fault is not None:
        scenario.wait_judged(answered // 4)
        fault(scenario)
    scenario.fault_ended = scenario.fault_ended or time.monotonic()
    status = ""

    def finished() -> bool:
        nonlocal status
        scenario.supervise()
        rows = _query(database_url, "SELECT status FROM evaluation_runs")
        status = str(rows[0][0]) if rows else status
        return status in ("scored", "failed")

    wait_until(finished, RUN_TIMEOUT, 0.1, lambda: f"the run scored (is {status})")
    recover = time.monotonic() - scenario.fault_ended
    return _measure(name, scenario, status, recover, clean)


def _measure(
    name: str, scenario: Scenario, status: str, recover: float, clean: FaultReport | None
) -> FaultReport:
    url = scenario.database_url
    ((rows, pairs),) = _query(
        url, "SELECT count(*), count(DISTINCT (run_id, item_id)) FROM item_results"
    )
    ((total,),) = _query(url, "SELECT items_total FROM evaluation_runs")
    aggregate = _query(
        url, "SELECT score, f1, ci_low, ci_high, dimension_means::text FROM run_aggregates"
    )
    scores: dict[str, Any] = {}
    if aggregate:
        score, f1, low, high, means = aggregate[0]
        scores = {"score": score, "f1": f1, "ci": (low, high), "dimension_means": means}
    calls = sum(_stand_in_requests(judge) for judge in scenario.judges) + scenario.judge_calls_lost
    return FaultReport(
        fault=name,
        injected=scenario.injected,
        items=int(total),
        lost=int(total) - int(pairs),
        written_twice=int(rows) - int(pairs),
        judge_calls=calls,
        repeated=calls - clean.judge_calls if clean else 0,
        recover_seconds=recover,
        same_scores=bool(scores) and (clean is None or scores == clean.scores),
        status=status,
        worker_restarts=scenario.restarts,
        scores=scores,
    )


# --- the printed table ---------------------------------------------------------------------

HEADERS = (
    "fault",
    "injected",
    "status",
    "items lost",
    "written twice",
    "judge calls repeated",
    "s to recover",
    "scores = clean",
)


def table(reports: list[FaultReport]) -> str:
    rows = [
        (
            r.fault,
            r.injected,
            r.status,
            str(r.lost),
            str(r.written_twice),
            str(r.repeated),
            f"{r.recover_seconds:.1f}",
            "yes" if r.same_scores else "NO",
        )
        for r in reports
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join(lines)


# --- hostile-input and fuzz counts (whatever the suite holds when it runs) ----------------


def input_counts(tests_root: Path) -> dict[str, int]:
    """The hostile-input corpus (its named cases), and property-based / schema-driven tests
    found by looking: `@given(` tests (hypothesis) and schemathesis test modules."""
    from tests.integration.test_hostile_inputs import CASES

    given = schema = 0
    for path in tests_root.rglob("test_*.py"):
        text = path.read_text(errors="replace")
        given += text.count("@given(")
        schema += int("schemathesis" in text)
    return {
        "hostile input cases": len(CASES),
        "hypothesis tests": given,
        "schemathesis test modules": schema,
    }
