"""Judge-client throughput against the stand-in judge over real HTTP.

1,756 synthetic items (the benchmark's size: T1 560, T2 420, T3 376, T4 400), rendered with the
bundled rubrics, go through `JudgeClient.judge_many` (no cache) against the stand-in started as a
separate process with added latency. With concurrency c and latency L the ideal rate is c / L;
we print the achieved rate, the ratio (target ≥ 0.9) and the client's CPU time per item
(target < 2 ms).

    .venv/bin/python bench/judge_throughput.py [--items 1756] [--latency-ms 100] [--concurrency 32]
"""

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.judge.client import JudgeClient
from app.judge.prompt import render_request
from app.judge.standin import STANDIN_MODEL, StandinProcess
from app.judge.types import JudgeInput, JudgeRequest
from app.rubrics.loader import bundled_rubrics
from app.tracks import Track

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

    standin = StandinProcess(
        latency_ms=args.latency_ms, max_concurrency=max(args.concurrency, args.standin_concurrency)
    )
    with standin:
        client = JudgeClient(standin.base_url, concurrency=args.concurrency, timeout=30.0)
        try:
            wall = time.perf_counter()
            cpu = time.process_time()
            verdicts, errors = await judge_all(client, requests)
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - wall
        finally:
            await client.aclose()
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{standin.root_url}/_standin/stats")).json()

    achieved = total / wall
    ideal = args.concurrency / (args.latency_ms / 1000) if args.latency_ms > 0 else float("inf")
    ratio = achieved / ideal
    cpu_ms = cpu / total * 1000

    def label(ok: bool) -> str:
        return "PASS" if ok else "BELOW TARGET"

    print(
        f"items               {total} ({', '.join(f'{t} {len(r)}' for t, r in requests.items())})"
    )
    print(f"verdicts / errors   {verdicts} / {errors}")
    print(
        f"stand-in            latency {args.latency_ms:g} ms, max_concurrency "
        f"{max(args.concurrency, args.standin_concurrency)}; client concurrency {args.concurrency}"
    )
    print(f"wall time           {wall:.3f} s")
    print(f"achieved            {achieved:.1f} items/s")
    print(f"ideal               {ideal:.1f} items/s (concurrency / latency)")
    print(f"ratio               {ratio:.3f}  target ≥ 0.90  {label(ratio >= 0.9)}")
    print(f"client CPU / item   {cpu_ms:.3f} ms (judge_many)  target < 2 ms  {label(cpu_ms < 2)}")
    print(
        f"render CPU / item   {cpu_render / total * 1000:.3f} ms (render_request, not in the above)"
    )
    print(
        f"HTTP requests       {client.counters.judge_calls}; retries {client.counters.extra or 0}"
    )
    print(
        f"stand-in stats      requests {stats['requests']}, max_in_flight "
        f"{stats['max_in_flight']}, rejected_429 {stats['rejected_429']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1756, help="items to judge (default 1756)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="stand-in added latency")
    parser.add_argument("--concurrency", type=int, default=32, help="client concurrency")
    parser.add_argument(
        "--standin-concurrency",
        type=int,
        default=32,
        help="stand-in max_concurrency (raised to --concurrency if lower)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
