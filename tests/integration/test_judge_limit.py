"""The deployment-wide judge limit (app/judge/limit.py) on a real Redis: permits are shared by
every limiter on the key, and a dead holder's permits come back once their lease runs out."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from app.judge.limit import RedisLimiter
from tests.support import ChildProcess, wait_until

pytestmark = pytest.mark.integration

KEY = "mmrare:test-judge-permits"
LEASE = 2.0

# A process that takes three permits and holds them (renewing their leases) until it is killed.
HOLDER = """
import asyncio, sys
from app.judge.limit import RedisLimiter

async def main() -> None:
    url, key, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    limiter = RedisLimiter.from_url(url, 5, key=key, lease_seconds=lease)
    held = [limiter.slot() for _ in range(3)]  # kept: a dropped one would give its permit back
    for permit in held:
        await permit.__aenter__()
    print("holding 3 permits", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def _most_in_flight(limiters: list[RedisLimiter], calls: int) -> int:
    """Run `calls` calls through the limiters in turn; the most that ran at once."""
    running = most = 0

    async def call(limiter: RedisLimiter) -> None:
        nonlocal running, most
        async with limiter.slot():
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)  # the call's own duration, not a wait for a result
            running -= 1

    await asyncio.gather(*(call(limiters[n % len(limiters)]) for n in range(calls)))
    return most


def test_limiters_on_one_key_share_its_permits(redis_clean: str) -> None:
    async def run() -> tuple[int, int, int]:
        limiters = [
            RedisLimiter.from_url(redis_clean, 4, key=KEY, lease_seconds=LEASE) for _ in range(3)
        ]
        try:
            most = await _most_in_flight(limiters, 60)
            left = await limiters[0].in_use_everywhere()
            return most, left, sum(limiter.in_use for limiter in limiters)
        finally:
            for limiter in limiters:
                await limiter.aclose()

    most, left, held = asyncio.run(run())
    assert most == 4  # never more than the limit, and the limit was reached
    assert left == held == 0  # every permit given back


def test_a_killed_holders_permits_return_after_their_lease(
    redis_clean: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_clean)
    log_path = tmp_path / "holder.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, redis_clean, KEY, str(LEASE)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    holder = ChildProcess("permit holder", process, log_path)
    try:
        holder.wait_for_log("holding 3 permits")
        first_expiry = max(score for _, score in client.zrange(KEY, 0, -1, withscores=True))

        def renewed_past_first_lease() -> bool:
            seconds, micros = client.time()
            return seconds + micros / 1e6 > first_expiry

        # Alive, the holder renews: its permits outlive the lease they were taken with.
        wait_until(renewed_past_first_lease, LEASE * 3, message="the first lease's expiry")
        assert client.zcard(KEY) == 3
        holder.kill()
        assert client.zcard(KEY) == 3  # nobody gave them back
    finally:
        holder.kill()

    async def free_permits() -> int:
        limiter = RedisLimiter.from_url(redis_clean, 5, key=KEY, lease_seconds=LEASE)
        try:
            return 5 - await limiter.in_use_everywhere()
        finally:
            await limiter.aclose()

    # Back within the lease, plus slack for the polls (each opens its own Redis pool).
    wait_until(
        lambda: asyncio.run(free_permits()) == 5,
        LEASE + 2,
        message="the killed holder's permits back within the lease",
    )
    client.close()
