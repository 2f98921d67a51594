"""Worker scale-out: how fast 1, 2 and 4 arq worker processes drain 16 queued submissions when
the judge is not the bottleneck.

    .venv/bin/python bench/worker_scaleout.py [--workers 1 2 4] [--submissions 16] [--items 480]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379/14]

It creates (and drops) a PostgreSQL database of its own, FLUSHES the Redis database it is given
(`--redis-url`, else $BENCH_REDIS_URL, else database 14),
and starts the stand-in judge (`python -m app.standin`, no latency, no concurrency limit). Per
worker count it starts the workers (`python -m arq workers.main.WorkerSettings`, each with its
own STORAGE_DIR and the default JUDGE_CONCURRENCY), waits until they are idle, then submits the
T1 predictions of `--submissions` models at once — different answers each time, so the judge
cache never answers — and times from the enqueue to the last run scored.

Printed per worker count: judge calls per second, per worker, and the CPU the workers burnt (CPU
seconds per judge call; their CPU seconds over wall time × cores) beside the whole machine's
busy share over the same window (from /proc/stat: other processes on the machine count too).
When the machine's busy share is near 1, the machine, not the workers, is the bound.
"""

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import redis
from arq import create_pool
from arq.connections import RedisSettings
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings
from app.db.migrate import upgrade
from app.db.models import EvaluationRun
from app.db.session import create_engine, create_session_factory
from app.demo.synthetic import write_synthetic_bundle, write_synthetic_predictions
from app.queue import ArqQueue
from app.runs import RunStatus
from app.services.accounts import authenticate, create_team, create_token
from app.services.configuration import ensure_track_configuration
from app.services.gold_import import import_gold_bundle
from app.services.submissions import SubmissionRequest, submit
from app.storage import build_store
from app.tracks import Track
from app.unit_of_work import transaction, unit_of_work

REPO_ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SECRET = secrets.token_hex(32)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass(frozen=True)
class Round:
    workers: int
    wall: float
    judge_calls: int
    worker_cpu: float  # seconds, all workers
    machine_busy: float  # share of all cores busy over the window, any process

    @property
    def rate(self) -> float:
        return self.judge_calls / self.wall

    @property
    def worker_cpu_share(self) -> float:
        return self.worker_cpu / (self.wall * (os.cpu_count() or 1))


def process_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def temporary_database(admin_url: str) -> str:
    name = f"mmrare_scaleout_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database or ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_standin(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    log = (workdir / "standin.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.standin", "--host", "127.0.0.1", "--port", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    ready = "stand-in judge ready on "

    def listening() -> bool:
        return ready in (workdir / "standin.log").read_text()

    wait_for(listening, 30, "the stand-in judge")
    line = next(x for x in (workdir / "standin.log").read_text().splitlines() if ready in x)
    return process, line.split(ready, 1)[1].strip()


def start_workers(count: int, env: dict[str, str], workdir: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for number in range(count):
        log = (workdir / f"worker-{count}-{number}.log").open("wb")
        storage = {"STORAGE_DIR": str(workdir / f"host-{count}-{number}")}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "arq", "workers.main.WorkerSettings"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env, **storage},
                cwd=REPO_ROOT,
            )
        )
    for worker in workers:
        wait_idle(worker, workdir)
    return workers


def wait_idle(worker: subprocess.Popen[bytes], workdir: Path) -> None:
    """Until the worker burns no CPU for half a second: start-up (imports, the first
    maintenance pass) is over, so a round times judging only."""
    deadline = time.monotonic() + 60
    previous = process_cpu(worker.pid)
    while True:
        time.sleep(0.5)
        if worker.poll() is not None:
            raise SystemExit(f"a worker exited during start-up (logs in {workdir})")
        now = process_cpu(worker.pid)
        if now - previous < 0.02:
            return
        if time.monotonic() > deadline:
            raise SystemExit("the workers never settled after start-up")
        previous = now


async def prepare(settings: Settings, bundle: Path) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            await ensure_track_configuration(session, settings)
            await import_gold_bundle(session, build_store(settings), bundle)
            await create_team(session, "scaleout")
            token, _ = await create_token(session, "scaleout", admin=False, actor="bench")
        return token
    finally:
        await engine.dispose()


async def submit_and_drain(
    settings: Settings, token: str, files: list[bytes]
) -> tuple[float, float]:
    """Submit every file (one model each) in one unit of work, which enqueues the runs on
    commit; wait until they are all scored. Returns (enqueued, all scored), perf_counter times."""
    engine = create_engine(settings.database_url)
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""))
    store = build_store(settings)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            principal = await authenticate(session, token)
            await session.commit()
        assert principal is not None
        run_ids: list[int] = []
        async with unit_of_work(sessions, ArqQueue(pool)) as uow:
            for data in files:
                model = f"scaleout-{secrets.token_hex(4)}"
                request = SubmissionRequest(principal, model, Track.T1, "T1.jsonl", data)
                outcome = await submit(uow.session, store, settings, request)
                uow.enqueue_runs(outcome.runs_to_enqueue())
                run_ids.extend(run_id for run_id, _ in outcome.runs_to_enqueue())
            started = time.perf_counter()
        while True:
            async with sessions() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(EvaluationRun)
                    .where(EvaluationRun.id.in_(run_ids), EvaluationRun.status == RunStatus.SCORED)
                )
            if done == len(run_ids):
                break
            await asyncio.sleep(0.05)
        ended = time.perf_counter()
    finally:
        await pool.aclose()
        await engine.dispose()
    return started, ended


def run_round(
    count: int,
    settings: Settings,
    env: dict[str, str],
    token: str,
    files: list[bytes],
    *,
    workdir: Path,
    judge_stats: str,
) -> Round:
    workers = start_workers(count, env, workdir)
    try:
        cpu_before = sum(process_cpu(w.pid) for w in workers)
        busy_before, total_before = machine_ticks()
        calls_before = httpx.get(judge_stats).json()["requests"]
        started, ended = asyncio.run(submit_and_drain(settings, token, files))
        calls = httpx.get(judge_stats).json()["requests"] - calls_before
        cpu = sum(process_cpu(w.pid) for w in workers) - cpu_before
        busy_after, total_after = machine_ticks()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    return Round(
        workers=count,
        wall=ended - started,
        judge_calls=calls,
        worker_cpu=cpu,
        machine_busy=(busy_after - busy_before) / max(total_after - total_before, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--submissions", type=int, default=16)
    parser.add_argument("--items", type=int, default=480, help="gold items (T1 is about a third)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="a Redis database the benchmark may flush (default: $BENCH_REDIS_URL, else "
        f"{DEFAULT_REDIS_URL})",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mmrare-scaleout-"))
    database_url = temporary_database(args.postgres_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    standin, judge_url = start_standin(workdir)
    try:
        upgrade(database_url)
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "JUDGE_BASE_URL": judge_url,
            "SECRET_KEY": SECRET,
        }
        settings = Settings(
            database_url=database_url,
            redis_url=args.redis_url,
            judge_base_url=judge_url,
            secret_key=SECRET,
            storage_dir=workdir / "host-api",
            submissions_per_day=10_000,
        )
        bundle = write_synthetic_bundle(workdir / "bundle", items=args.items, seed=3)
        token = asyncio.run(prepare(settings, bundle))
        judge_stats = judge_url.removesuffix("/v1") + "/_standin/stats"
        rounds = []
        seed = 0
        for count in args.workers:
            files = []
            for _ in range(args.submissions):
                seed += 1
                paths = write_synthetic_predictions(bundle, workdir / f"p{seed}", seed=seed)
                files.append(unique_answers(paths[Track.T1].read_bytes(), seed))
            rounds.append(
                run_round(
                    count, settings, env, token, files, workdir=workdir, judge_stats=judge_stats
                )
            )
            print_round(rounds[-1], rounds[0])
    finally:
        standin.terminate()
        standin.wait(timeout=30)
        drop_database(args.postgres_url, database_url)
    print(f"(cores: {os.cpu_count()}; logs in {workdir})")


def unique_answers(jsonl: bytes, seed: int) -> bytes:
    """Every answer made unique to this file, so the judge cache never answers and every
    answered item is one judge call (synthetic answers repeat across seeds)."""
    lines = []
    for line in jsonl.decode().splitlines():
        row = json.loads(line)
        if row.get("prediction"):
            row["prediction"] += f" (variant {seed})"
        lines.append(json.dumps(row))
    return ("\n".join(lines) + "\n").encode()


def print_round(result: Round, first: Round) -> None:
    print(
        f"{result.workers} worker(s): {result.judge_calls} judge calls in {result.wall:.2f} s = "
        f"{result.rate:.0f} items/s ({result.rate / result.workers:.0f} per worker, "
        f"{result.rate / first.rate:.2f}× one worker); worker CPU "
        f"{1000 * result.worker_cpu / max(result.judge_calls, 1):.2f} ms per item, "
        f"{result.worker_cpu_share:.2f} of the cores; machine busy {result.machine_busy:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
