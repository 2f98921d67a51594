"""The judge's health on /admin: last success, last error and its kind, and the error rate over
the last five minutes, across every process that calls the judge.

Where it is kept: with REDIS_URL, every arq worker adds what its client saw (app.judge.health)
to Redis every PUBLISH_SECONDS — per 10-second bucket `HINCRBY` counters that expire after two
windows, and the last success and each error kind's last time in a sorted set written with
`ZADD GT` — so every process (the API included) reads one record. Without Redis the one process
that judges is the one that serves /admin, and its own record is read. Redis, not the database:
these are hundreds of small counter updates a minute that need no history, and a FLUSHALL or a
Redis restart only empties the panel until the next attempts.
"""

import asyncio
import logging
import time

from arq.connections import ArqRedis

from app.judge.health import (
    WINDOW_SECONDS,
    HealthDelta,
    HealthSnapshot,
    snapshot_of,
    window_buckets,
)
from app.runtime import Runtime

log = logging.getLogger(__name__)

PUBLISH_SECONDS = 2.0
_PREFIX = "mmrare:judge-health"
_LAST = f"{_PREFIX}:last"  # sorted set: "success" and "error:<kind>" scored by epoch seconds
_SUCCESS = "success"
_ERROR = "error:"


def _bucket_key(bucket: int) -> str:
    return f"{_PREFIX}:bucket:{bucket}"


async def publish(redis: ArqRedis, delta: HealthDelta) -> None:
    """Add one process's unpublished attempts to the shared record."""
    pipe = redis.pipeline(transaction=False)
    for bucket, (requests, errors) in delta.counts.items():
        key = _bucket_key(bucket)
        pipe.hincrby(key, "requests", requests)
        pipe.hincrby(key, "errors", errors)
        pipe.expire(key, 2 * WINDOW_SECONDS)
    if delta.last_success is not None:
        pipe.zadd(_LAST, {_SUCCESS: delta.last_success}, gt=True)
    if delta.last_error is not None:
        when, kind = delta.last_error
        pipe.zadd(_LAST, {f"{_ERROR}{kind}": when}, gt=True)
    await pipe.execute()


async def read_shared(redis: ArqRedis, now: float) -> HealthSnapshot:
    buckets = list(window_buckets(now))
    pipe = redis.pipeline(transaction=False)
    for bucket in buckets:
        pipe.hmget(_bucket_key(bucket), ["requests", "errors"])
    pipe.zrange(_LAST, 0, -1, withscores=True)
    *rows, last = await pipe.execute()
    counts = {
        bucket: (int(requests or 0), int(errors or 0))
        for bucket, (requests, errors) in zip(buckets, rows, strict=True)
        if requests is not None
    }
    last_success: float | None = None
    last_error: tuple[float, str] | None = None
    for member, score in last:
        name = member.decode() if isinstance(member, bytes) else str(member)
        if name == _SUCCESS:
            last_success = float(score)
        elif name.startswith(_ERROR) and (last_error is None or score > last_error[0]):
            last_error = (float(score), name.removeprefix(_ERROR))
    return snapshot_of(counts, last_success, last_error, now)


async def judge_health(runtime: Runtime) -> HealthSnapshot:
    """What /admin shows: the shared record with Redis, this process's own without."""
    redis = runtime.shared_redis
    if redis is None:
        return runtime.judge_client.health.snapshot()
    return await read_shared(redis, time.time())


async def publish_once(runtime: Runtime) -> None:
    redis = runtime.shared_redis
    health = runtime.judge_client.health
    delta = health.take_unpublished()
    if redis is None or delta.empty():
        return
    try:
        await publish(redis, delta)
    except Exception as exc:  # Redis restarting: keep the attempts for the next beat
        health.restore_unpublished(delta)
        log.warning("judge health not published: %s", type(exc).__name__)


async def publish_forever(runtime: Runtime) -> None:
    """An arq worker's background task (started and cancelled with the worker)."""
    while True:
        await asyncio.sleep(PUBLISH_SECONDS)
        await publish_once(runtime)
