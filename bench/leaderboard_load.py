"""Leaderboard pages under load: 1,000 models × 4 tracks in PostgreSQL, `mmrare serve` in its own
process, 50 concurrent clients on `/` and `/analysis/domain-gap?source=mixed`, compared with a
static file served by the same server.

    .venv/bin/python bench/leaderboard_load.py [--models 1000] [--duration 20] [--concurrency 50]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep] [--strict]

A fresh database is created (and dropped at the end unless --keep), migrated, and seeded
directly with aggregates (a scored run per model and track, plus the paper's 23 reported
entries); the domain-gap peaks also get item rows so their paired interval is real. The server
runs `mmrare serve` against it; every path is requested once before timing (the view caches
fill, the paired intervals are computed and stored). For each path we print p50/p99 latency,
requests per second, bytes per response and the ratio to the static file's throughput.

Targets (issue 5): p99 < 50 ms and at least 1/4 of the static file's throughput. The load
generator shares the machine with the server (2 cores here), so absolute figures are lower
than a dedicated client would measure; the ratio to the static file is the fairer number.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from app.config import Settings  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.db.session import create_engine, create_session_factory  # noqa: E402
from app.leaderboard.board import EntryKind  # noqa: E402
from app.leaderboard.table import EntryFilter  # noqa: E402
from app.services.analysis import MIXED, Source, domain_gap_view  # noqa: E402
from app.services.configuration import ensure_track_configuration  # noqa: E402
from app.services.leaderboard import build_board  # noqa: E402
from app.services.reported import seed_reported  # noqa: E402
from app.tracks import Track  # noqa: E402
from app.unit_of_work import transaction  # noqa: E402
from tests.leaderboard_fixture import seed_bulk, seed_item_scores  # noqa: E402

STATIC_PATH = "/static/leaderboard.css"
PAGES = ("/", "/analysis/domain-gap?source=mixed")  # mixed: every judged entry takes part
P99_TARGET_MS = 50.0
RATIO_TARGET = 0.25


@dataclass
class Result:
    path: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    bytes_per_response: float
    server_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_seconds / max(self.requests, 1)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seed(database_url: str, models: int) -> None:
    settings = Settings(database_url=database_url)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        async with transaction(sessions) as session:
            await ensure_track_configuration(session, settings)
            await seed_reported(session)
            counts = await seed_bulk(session, models)
        print(f"seeded {counts['models']} models, {counts['runs']} scored runs, 23 reported")
        # Item rows for the runs the domain-gap page compares, so its paired intervals are real.
        async with transaction(sessions) as session:
            board = await build_board(session)
            view = await domain_gap_view(
                session,
                board,
                EntryFilter(kind=EntryKind.JUDGED),
                resamples=10,
                seed=1,
                source=Source(MIXED),
            )
            runs: set[tuple[int, Track, float]] = set()
            for track_view in view.tracks:
                for comparison in (track_view.vs_open, track_view.vs_closed):
                    for entry in (comparison.medical, comparison.other):
                        cell = entry.cells.get(track_view.track) if entry else None
                        if cell is not None and cell.run_id is not None:
                            runs.add((cell.run_id, track_view.track, cell.score))
            await session.rollback()  # drop the throw-away intervals computed without items
        async with transaction(sessions) as session:
            for run_id, track, score in sorted(runs):
                right = round(score)  # 100 items: `score` of them right
                await seed_item_scores(
                    session, run_id, [1.0] * right + [0.0] * (100 - right), track
                )
        print(f"item rows for the {len(runs)} runs the domain-gap page pairs")
    finally:
        await engine.dispose()


def start_server(database_url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STORAGE_DIR": str(workdir / "uploads"),
        "SECRET_KEY": "bench",
    }
    env.pop("REDIS_URL", None)
    log = (workdir / "server.log").open("wb")
    return subprocess.Popen(
        [str(REPO_ROOT / ".venv/bin/mmrare"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )


async def wait_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit("the server exited during start-up (see server.log)")
            try:
                if (await client.get(STATIC_PATH)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start within 30 s")


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, int]:
    """One keep-alive GET: (status, body bytes). Every response here has a Content-Length."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status, length


async def hammer(base_url: str, path: str, concurrency: int, duration: float) -> Result:
    """`concurrency` keep-alive connections, each sending GETs back to back for `duration`.

    A minimal HTTP/1.1 client on asyncio streams: a general-purpose client (httpx) spends more
    CPU per request than the server does on a cached page, and it shares the machine with the
    server, so it would measure itself. Requests accept gzip, as browsers do.
    """
    host, port = base_url.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip\r\n"
        "User-Agent: leaderboard-bench\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    total_bytes = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors, total_bytes
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, size = await _get(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                if status != 200:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                total_bytes += size
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    count = len(latencies)
    return Result(path, count, errors, seconds, latencies, total_bytes / max(count, 1))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    base_url: str, path: str, concurrency: int, duration: float, server_pid: int
) -> Result:
    before = cpu_seconds(server_pid)
    result = await hammer(base_url, path, concurrency, duration)
    result.server_cpu_seconds = cpu_seconds(server_pid) - before
    return result


def report(results: list[Result], static: Result) -> bool:
    print()
    print(
        f"{'path':<24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'KB sent':>8} "
        f"{'vs static':>10} {'server CPU ms/req':>18}"
    )
    ok = True
    for result in [*results, static]:
        ratio = result.rate / static.rate if static.rate else float("nan")
        print(
            f"{result.path:<24} {result.rate:>8.0f} {result.quantile(0.5):>8.1f} "
            f"{result.quantile(0.99):>8.1f} {result.bytes_per_response / 1024:>8.1f} "
            f"{ratio:>10.2f} {result.cpu_ms_per_request:>18.2f}"
            + (f"  ({result.errors} errors)" if result.errors else "")
        )
        if result is not static:
            ok &= result.quantile(0.99) < P99_TARGET_MS and ratio >= RATIO_TARGET
    print(
        f"\ntargets: p99 < {P99_TARGET_MS:.0f} ms and ≥ {RATIO_TARGET:.2f} of the static "
        f"file's req/s: {'met' if ok else 'NOT met'} (os.cpu_count() = {os.cpu_count()})"
    )
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per path")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed (default: report)"
    )
    args = parser.parse_args()

    name = f"mmrare_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with psycopg.connect(args.admin_url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        print(f"PostgreSQL is not reachable at {args.admin_url}: {exc}")
        return 2
    database_url = make_url(args.admin_url).set(database=name).render_as_string(False)
    port = args.port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="leaderboard-bench-") as tmp:
        workdir = Path(tmp)
        try:
            t0 = time.perf_counter()
            await asyncio.to_thread(upgrade, database_url)  # Alembic runs its own loop
            await seed(database_url, args.models)
            print(f"database {name} ready in {time.perf_counter() - t0:.1f} s")
            server = start_server(database_url, port, workdir)
            await wait_ready(base_url, server)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                for path in PAGES:
                    t1 = time.perf_counter()
                    response = await client.get(path)
                    response.raise_for_status()
                    print(f"first view of {path}: {1000 * (time.perf_counter() - t1):.0f} ms")
            print(
                f"{args.concurrency} clients, {args.duration:g} s per path "
                f"(load generator on the same machine)"
            )
            results = [
                await measure(base_url, path, args.concurrency, args.duration, server.pid)
                for path in PAGES
            ]
            static = await measure(
                base_url, STATIC_PATH, args.concurrency, args.duration, server.pid
            )
            ok = report(results, static)
            medians = [r.quantile(0.5) for r in results]
            print(f"page p50 spread: {statistics.pstdev(medians):.1f} ms")
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
            if not args.keep:
                with psycopg.connect(args.admin_url, autocommit=True) as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
            else:
                print(f"kept database {database_url}")
    return 1 if args.strict and not ok else 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
