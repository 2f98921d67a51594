"""How busy the whole pipeline keeps the judge: one T1 submission, upload to score.

One 1,756-item T1 submission (every item answered) goes end to end — accepted by the API,
queued, judged, aggregated, scored — against the stand-in judge (its own process) at a fixed
latency, with JUDGE_CONCURRENCY slots. No pipeline can beat items × latency / slots (the limit);
the share of the limit is limit / wall time (target ≥ 0.87). Two modes, each with services as
real processes (`mmrare serve`, `mmrare worker`):

    embedded   SQLite, jobs inside `mmrare serve` (no REDIS_URL)
    redis      PostgreSQL + Redis + one `mmrare worker` process

    .venv/bin/python bench/pipeline_saturation.py [--mode both|embedded|redis] [--items 1756]
        [--latency-ms 100] [--concurrency 32] [--postgres-url postgresql://127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379/0]

Printed per mode: the upload's own time (sent → 201 accepted), the wall time (accepted → the
run's `finished_at`), share of
the limit, the judging process's CPU per item (the API process when embedded, the worker with
Redis; target < 2 ms), its peak resident memory (VmHWM; target < 300 MB), the time to the first
stored verdict and from the last one to the score. The redis mode creates (and drops) its own
PostgreSQL database and empties the Redis database it is given.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from judge_throughput import process_cpu_seconds, standin_process  # noqa: E402

from app.db.models import EvaluationRun, ItemResult  # noqa: E402
from app.db.session import create_engine, create_session_factory  # noqa: E402
from app.demo.synthetic import (  # noqa: E402
    PAPER_TOTAL,
    PAPER_TRACK_SIZES,
    write_synthetic_bundle,
    write_synthetic_predictions,
)
from app.tracks import Track  # noqa: E402

MMRARE = Path(sys.executable).parent / "mmrare"
TARGET_SHARE = 0.87
TARGET_CPU_MS = 2.0
TARGET_MEMORY_MB = 300.0


@dataclass(frozen=True)
class Figures:
    mode: str
    items: int
    upload: float
    wall: float
    limit: float
    cpu_ms: float | None
    peak_mb: float | None
    first_verdict: float
    after_last: float
    judge_calls: int

    @property
    def share(self) -> float:
        return self.limit / self.wall


def t1_bundle(directory: Path, items: int) -> tuple[Path, Path]:
    """A gold bundle of `items` T1 items and a prediction file answering every one."""
    scale = PAPER_TOTAL / PAPER_TRACK_SIZES[Track.T1]
    full = write_synthetic_bundle(directory / "all", items=int(items * scale) + 8, seed=11)
    t1 = [
        line
        for line in full.read_text().splitlines()
        if json.loads(line)["track"] == Track.T1.value
    ][:items]
    if len(t1) != items:
        raise RuntimeError(f"the synthetic bundle held {len(t1)} T1 items, not {items}")
    bundle = directory / "bundle" / "gold.jsonl"
    bundle.parent.mkdir()
    bundle.write_text("\n".join(t1) + "\n")
    predictions = write_synthetic_predictions(bundle, directory / "predictions", coverage=1.0)
    return bundle, predictions[Track.T1]


def mmrare(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(MMRARE), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"mmrare {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@contextmanager
def child(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def peak_memory_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


RunState = tuple[EvaluationRun, datetime, datetime]
POLL_SECONDS = 0.1  # the figures come from stored timestamps, not from when a poll saw them


async def _finished_run(database_url: str, within: float) -> RunState:
    """Wait for the latest run to finish; it and its first and last stored verdict times.

    One engine and one light query per poll: the poller shares the machine with the pipeline
    it measures, so it should cost that pipeline as little CPU as it can."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + within
    try:
        sessions = create_session_factory(engine)
        latest = select(EvaluationRun.id, EvaluationRun.finished_at).order_by(
            EvaluationRun.id.desc()
        )
        while True:
            async with sessions() as session:
                row = (await session.execute(latest.limit(1))).first()
            if row is not None and row.finished_at is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for the run to finish")
            await asyncio.sleep(POLL_SECONDS)
        async with sessions() as session:
            run = await session.get_one(EvaluationRun, row.id)
            first, last = (
                await session.execute(
                    select(func.min(ItemResult.updated_at), func.max(ItemResult.updated_at)).where(
                        ItemResult.run_id == run.id, ItemResult.missing.is_(False)
                    )
                )
            ).one()
            return (run, first, last)
    finally:
        await engine.dispose()


def seconds(value: datetime) -> float:
    """Epoch seconds of a stored timestamp (SQLite gives them back without a zone: UTC)."""
    return value.replace(tzinfo=value.tzinfo or UTC).timestamp()


def measure(
    mode: str, args: argparse.Namespace, standin_url: str, workdir: Path, database_url: str
) -> Figures:
    bundle, predictions = t1_bundle(workdir, args.items)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STORAGE_DIR": str(workdir / "uploads"),
        "JUDGE_BASE_URL": standin_url,
        "JUDGE_CONCURRENCY": str(args.concurrency),
        "SECRET_KEY": uuid.uuid4().hex,
    }
    env.pop("REDIS_URL", None)
    if mode == "redis":
        env["REDIS_URL"] = args.redis_url
        subprocess.run(
            [sys.executable, "-c", f"import redis; redis.Redis.from_url({args.redis_url!r})"
             ".flushdb()"],
            check=True,
        )  # fmt: skip
    mmrare(env, "db", "upgrade")
    mmrare(env, "gold", "import", str(bundle))
    mmrare(env, "team", "create", "bench")
    token = mmrare(env, "token", "create", "--team", "bench").strip()
    port = free_port()
    with (
        child([str(MMRARE), "serve", "--port", str(port)], env, workdir / "serve.log") as api,
        child(
            [str(MMRARE), "worker"] if mode == "redis" else [sys.executable, "-c", "pass"],
            env,
            workdir / "worker.log",
        ) as worker,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
    ):

        def api_up() -> bool:
            try:
                return client.get("/api/v1/leaderboard").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(api_up, 60, "the API")
        if mode == "redis":
            wait_until(lambda: "Starting worker" in (workdir / "worker.log").read_text(), 60,
                       "the worker")  # fmt: skip
            time.sleep(1.0)  # let its start-up maintenance pass finish
        judging_pid = worker.pid if mode == "redis" else api.pid
        cpu_before = process_cpu_seconds(judging_pid)
        sent = time.time()
        response = client.post(
            "/api/v1/submissions",
            data={"track": Track.T1.value, "model": "bench-model"},
            files={"file": ("t1.jsonl", predictions.read_bytes(), "application/jsonl")},
            headers={"Authorization": f"Bearer {token}"},
        )
        accepted = time.time()
        if response.status_code != 201:
            raise RuntimeError(f"upload refused: {response.status_code} {response.text[:500]}")
        run, first, last = asyncio.run(_finished_run(database_url, within=600))
        cpu_after = process_cpu_seconds(judging_pid)
        peak = peak_memory_mb(judging_pid)
    assert run.finished_at is not None
    if run.status.value != "scored":
        raise RuntimeError(f"the run ended {run.status.value}: {run.error}")
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = (cpu_after - cpu_before) / args.items * 1000
    return Figures(
        mode=mode,
        items=args.items,
        upload=accepted - sent,
        wall=seconds(run.finished_at) - accepted,
        limit=args.items * args.latency_ms / 1000 / args.concurrency,
        cpu_ms=cpu_ms,
        peak_mb=peak,
        first_verdict=seconds(first) - accepted,
        after_last=seconds(run.finished_at) - seconds(last),
        judge_calls=run.judge_calls,
    )


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(figures: Figures) -> None:
    def mark(ok: bool) -> str:
        return "PASS" if ok else "BELOW TARGET"

    print(f"== {figures.mode}: {figures.items} T1 items, judge calls {figures.judge_calls}")
    print(f"upload               {figures.upload:.2f} s (sent → accepted, not in the wall time)")
    print(f"wall time            {figures.wall:.2f} s (accepted → scored)")
    print(f"limit                {figures.limit:.2f} s (items × latency / slots)")
    print(
        f"share of the limit   {figures.share:.3f}  target ≥ {TARGET_SHARE}  "
        f"{mark(figures.share >= TARGET_SHARE)}"
    )
    if figures.cpu_ms is not None:
        print(
            f"CPU per item         {figures.cpu_ms:.2f} ms (judging process)  target < "
            f"{TARGET_CPU_MS:g} ms  {mark(figures.cpu_ms < TARGET_CPU_MS)}"
        )
    if figures.peak_mb is not None:
        print(
            f"peak memory          {figures.peak_mb:.0f} MB (judging process)  target < "
            f"{TARGET_MEMORY_MB:g} MB  {mark(figures.peak_mb < TARGET_MEMORY_MB)}"
        )
    print(f"to first verdict     {figures.first_verdict:.2f} s (accepted → first stored verdict)")
    print(f"after last verdict   {figures.after_last:.2f} s (last stored verdict → scored)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["both", "embedded", "redis"], default="both")
    parser.add_argument("--items", type=int, default=1756, help="T1 items (default 1756)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="stand-in latency")
    parser.add_argument("--concurrency", type=int, default=32, help="JUDGE_CONCURRENCY")
    parser.add_argument("--postgres-url", default="postgresql://127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    modes = ["embedded", "redis"] if args.mode == "both" else [args.mode]
    flags = ("--latency-ms", f"{args.latency_ms:g}", "--max-concurrency", str(args.concurrency))
    with standin_process(*flags) as standin:
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix=f"mmrare-bench-{mode}-") as tmp:
                workdir = Path(tmp)
                if mode == "embedded":
                    report(measure(mode, args, standin.base_url, workdir,
                                   f"sqlite:///{workdir / 'mmrare.db'}"))  # fmt: skip
                else:
                    with postgres_database(args.postgres_url) as url:
                        report(measure(mode, args, standin.base_url, workdir, url))


if __name__ == "__main__":
    main()
