"""Judge-client throughput against the stand-in judge over real HTTP.

1,756 synthetic items (the benchmark's size: T1 560, T2 420, T3 376, T4 400), rendered with the
bundled rubrics, go through `JudgeClient.judge_many` (no cache) against the stand-in started as a
separate process (`python -m app.standin`) with a fixed latency (arrival to reply). With
concurrency c and latency L the ideal rate is c / L; we print the achieved rate, the ratio
(target ≥ 0.9) and the client's CPU time per item (target < 2 ms).

    .venv/bin/python bench/judge_throughput.py [--items 1756] [--latency-ms 100] [--concurrency 32]
        [--baseline]

The stand-in's own CPU per request and, with --baseline, the rate a bare asyncio HTTP client
reaches against the same stand-in are printed too: on a small shared machine they show how much
of the gap to the ideal is the machine and the server rather than the client.
"""

import argparse
import asyncio
import json
import os
import random
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.judge import STANDIN_MODEL
from app.judge.client import JudgeClient
from app.judge.prompt import render_request
from app.judge.types import JudgeInput, JudgeRequest
from app.rubrics.loader import bundled_rubrics
from app.tracks import Track

REPO_ROOT = Path(__file__).resolve().parents[1]
TRACK_SHARE = {Track.T1: 560, Track.T2: 420, Track.T3: 376, Track.T4: 400}  # of 1,756
SEED = 20260101
_SYLLABLES = [
    "ka",
    "wa",
    "sa",
    "ki",
    "dys",
    "ker",
    "to",
    "sis",
    "pa",
    "no",
    "ra",
    "mic",
    "my",
    "o",
    "pa",
    "thy",
    "neu",
    "ro",
    "fi",
    "bro",
    "ma",
    "lym",
    "pho",
    "cyt",
    "hae",
    "mo",
    "glo",
    "bin",
    "ar",
    "te",
    "ri",
    "tis",
    "en",
    "ce",
    "pha",
    "lo",
    "der",
    "ma",
    "tic",
    "gra",
    "nu",
    "lo",
    "ma",
    "tous",
    "sar",
    "co",
    "id",
]


def vocabulary(rng: random.Random, size: int = 600) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def synthetic_items(total: int, rng: random.Random) -> dict[Track, list[JudgeInput]]:
    vocab = vocabulary(rng)
    scale = total / sum(TRACK_SHARE.values())
    counts = {track: round(n * scale) for track, n in TRACK_SHARE.items()}
    counts[Track.T1] += total - sum(counts.values())  # rounding remainder

    def words(n: int) -> str:
        return " ".join(rng.choices(vocab, k=n))

    items: dict[Track, list[JudgeInput]] = {}
    for track, count in counts.items():
        batch: list[JudgeInput] = []
        for i in range(count):
            short = track is Track.T1
            reference = words(rng.randint(2, 5) if short else rng.randint(20, 60))
            ref_words = reference.split()
            # Candidates share a random fraction of the reference's words, so ratings vary.
            keep = rng.random()
            candidate = " ".join(
                [w for w in ref_words if rng.random() < keep] + words(rng.randint(5, 120)).split()
            )
            batch.append(
                JudgeInput(
                    item_id=f"{track.value}-{i:04d}",
                    track=track,
                    question=words(rng.randint(12, 30)) + "?",
                    reference_answer=reference,
                    candidate=candidate,
                    aliases=tuple(words(3) for _ in range(rng.randint(0, 2))) if short else (),
                    targets=None if short else {"key_points": rng.sample(ref_words, k=3)},
                )
            )
        items[track] = batch
    return items


async def judge_all(
    client: JudgeClient, requests: dict[Track, list[JudgeRequest]]
) -> tuple[int, int]:
    rubrics = bundled_rubrics()
    verdicts = errors = 0

    async def one_track(track: Track) -> None:
        nonlocal verdicts, errors
        async for outcome in client.judge_many(requests[track], rubrics[track]):
            if outcome.verdict is not None:
                verdicts += 1
            else:
                errors += 1

    # All tracks at once, so the shared semaphore stays full across track boundaries.
    await asyncio.gather(*(one_track(track) for track in requests))
    return verdicts, errors


async def raw_baseline(base_url: str, bodies: list[bytes], concurrency: int) -> float:
    """Wall time for the same bodies through a bare asyncio HTTP/1.1 client: the ceiling that
    this machine and the stand-in allow, with (almost) no client cost."""
    host, _, port = base_url.split("//")[1].split("/")[0].rpartition(":")
    pending = iter(bodies)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for body in pending:
            head = (
                "POST /v1/chat/completions HTTP/1.1\r\nHost: standin\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            headers = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in headers.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
        writer.close()

    wall = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall


@dataclass(frozen=True)
class Standin:
    pid: int
    base_url: str

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")


@contextmanager
def standin_process(*flags: str, timeout: float = 20.0) -> Iterator[Standin]:
    """`python -m app.standin --port 0 FLAGS` as a child process, until the block ends.

    The port comes from the child's ready line (`… ready on http://HOST:PORT/v1`), read with a
    deadline.
    """
    argv = [sys.executable, "-m", "app.standin", "--port", "0", *flags]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=REPO_ROOT)
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + timeout
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or process.poll() is not None:
                    raise RuntimeError(f"the stand-in did not report ready: {line!r}")
                if selector.select(remaining):
                    line += os.read(process.stdout.fileno(), 4096)
        match = re.search(rb"ready on (\S+)", line)
        if match is None:
            raise RuntimeError(f"the stand-in printed an unexpected ready line: {line!r}")
        yield Standin(process.pid, match.group(1).decode())
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def process_cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of another process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(SEED)
    rubrics = bundled_rubrics()
    items = synthetic_items(args.items, rng)

    cpu_render = time.process_time()
    requests = {
        track: [
            render_request(
                rubrics[track],
                item,
                model=STANDIN_MODEL,
                secret=b"bench-secret",
                max_answer_chars=8000,
                seed=1234,
                max_tokens=512,
            )
            for item in batch
        ]
        for track, batch in items.items()
    }
    cpu_render = time.process_time() - cpu_render
    total = sum(len(batch) for batch in requests.values())
    standin_limit = max(args.concurrency, args.standin_concurrency)

    flags = ("--latency-ms", str(args.latency_ms), "--max-concurrency", str(standin_limit))
    with standin_process(*flags) as standin:
        client = JudgeClient(standin.base_url, concurrency=args.concurrency, timeout=30.0)
        try:
            standin_cpu = process_cpu_seconds(standin.pid)
            wall = time.perf_counter()
            cpu = time.process_time()
            verdicts, errors = await judge_all(client, requests)
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - wall
            standin_after = process_cpu_seconds(standin.pid)
        finally:
            await client.aclose()
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{standin.root_url}/_standin/stats")).json()
        baseline = None
        if args.baseline:
            bodies = [
                json.dumps(r.body(), separators=(",", ":")).encode()
                for batch in requests.values()
                for r in batch
            ]
            baseline = await raw_baseline(standin.base_url, bodies, args.concurrency)

    achieved = total / wall
    ideal = args.concurrency / (args.latency_ms / 1000) if args.latency_ms > 0 else float("inf")
    ratio = achieved / ideal
    cpu_ms = cpu / total * 1000

    def label(ok: bool) -> str:
        return "PASS" if ok else "BELOW TARGET"

    split = ", ".join(f"{t} {len(r)}" for t, r in requests.items())
    print(f"items               {total} ({split})")
    print(f"verdicts / errors   {verdicts} / {errors}")
    print(
        f"setup               stand-in latency {args.latency_ms:g} ms, max_concurrency "
        f"{standin_limit}; client concurrency {args.concurrency}"
    )
    print(f"wall time           {wall:.3f} s")
    print(f"achieved            {achieved:.1f} items/s")
    print(f"ideal               {ideal:.1f} items/s (concurrency / latency)")
    print(f"ratio               {ratio:.3f}  target ≥ 0.90  {label(ratio >= 0.9)}")
    print(f"client CPU / item   {cpu_ms:.3f} ms (judge_many)  target < 2 ms  {label(cpu_ms < 2)}")
    print(f"render CPU / item   {cpu_render / total * 1000:.3f} ms (render_request, not above)")
    if standin_cpu is not None and standin_after is not None:
        print(f"stand-in CPU / req  {(standin_after - standin_cpu) / total * 1000:.3f} ms")
    print(f"HTTP requests       {client.counters.judge_calls}; retries {client.counters.extra}")
    print(
        f"stand-in stats      requests {stats['requests']}, max_in_flight "
        f"{stats['max_in_flight']}, rejected_429 {stats['rejected_429']}"
    )
    if baseline is not None:
        raw_rate = total / baseline
        print(
            f"raw-socket ceiling  {raw_rate:.1f} items/s = {raw_rate / ideal:.3f} of ideal "
            f"(bare asyncio client, same stand-in); JudgeClient reaches "
            f"{achieved / raw_rate:.3f} of it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1756, help="items to judge (default 1756)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="stand-in latency (ms)")
    parser.add_argument("--concurrency", type=int, default=32, help="client concurrency")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also time a bare asyncio HTTP client on the same items (the machine's ceiling)",
    )
    parser.add_argument(
        "--standin-concurrency",
        type=int,
        default=32,
        help="stand-in max_concurrency (raised to --concurrency if lower)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
