"""Limits on judge calls in flight: `async with limiter.slot(): <one HTTP request>`.

* `LocalLimiter` — an asyncio.Semaphore: a bound for this process alone.
* `RedisLimiter` — one bound for every process sharing a Redis database (JUDGE_GLOBAL_CONCURRENCY).
  A permit is a member of a sorted set scored by its lease's expiry. Taking one is a Lua script,
  atomic in Redis: drop expired leases (ZREMRANGEBYSCORE), count (ZCARD), add ours (ZADD) if
  there is room. A holder renews its leases every third of the lease time, so a process that
  dies (SIGKILL, lost host) stops renewing and its permits return once their lease runs out.
  Times are Redis's own clock, so hosts' clocks need not agree.
* `Unlimited` — no bound (no global limit configured).

Within a process, waiters for a Redis permit line up behind one lock (first come, first
served): only the head of the line polls Redis, every `poll_seconds` or as soon as this process
returns a permit, so a full limit costs one small script call per poll per process, not per
waiter.
"""

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis

log = logging.getLogger(__name__)

PERMITS_KEY = "mmrare:judge-permits"

# Every script starts here: Redis's clock (replicate_commands lets Redis < 7 write after TIME)
# and expired leases dropped.
_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)"""

# KEYS[1] the permit set; ARGV: limit, lease seconds, member. Returns 1 when the permit is ours.
_ACQUIRE = f"""{_NOW}
local lease = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000))
  return 1
end
return 0
"""

# KEYS[1] the permit set; ARGV: lease seconds, members. Extends the leases still held (XX: an
# expired one is not brought back); returns how many were.
_RENEW = f"""{_NOW}
local lease = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
    renewed = renewed + 1
  end
end
redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000))
return renewed
"""

# KEYS[1] the permit set. Permits held anywhere right now (expired leases dropped first).
_COUNT = f"""{_NOW}
return redis.call('ZCARD', KEYS[1])
"""


class Limiter(Protocol):
    def slot(self) -> AbstractAsyncContextManager[None]:
        """Hold one permit for the body of the `async with`."""
        ...

    @property
    def in_use(self) -> int:
        """Permits this process holds now."""
        ...

    async def aclose(self) -> None: ...


class Unlimited:
    in_use = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        yield

    async def aclose(self) -> None:
        return None


class LocalLimiter:
    def __init__(self, permits: int) -> None:
        if permits < 1:
            raise ValueError("permits must be ≥ 1")
        self.permits = permits
        self._semaphore = asyncio.Semaphore(permits)
        self._held = 0

    @property
    def in_use(self) -> int:
        return self._held

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._semaphore:
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1

    async def aclose(self) -> None:
        return None


class RedisLimiter:
    def __init__(
        self,
        redis: Redis,
        permits: int,
        *,
        key: str = PERMITS_KEY,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.01,
        owns_redis: bool = False,
    ) -> None:
        if permits < 1:
            raise ValueError("permits must be ≥ 1")
        if lease_seconds <= 0 or poll_seconds <= 0:
            raise ValueError("lease_seconds and poll_seconds must be > 0")
        self.permits = permits
        self.key = key
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._redis = redis
        self._owns_redis = owns_redis
        self._acquire_script = redis.register_script(_ACQUIRE)
        self._renew_script = redis.register_script(_RENEW)
        self._count_script = redis.register_script(_COUNT)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._numbers = itertools.count()
        self._held: set[str] = set()
        self._line = asyncio.Lock()  # waiters for a permit, first come first served
        self._returned = asyncio.Event()  # set when this process gives a permit back
        self._renewer: asyncio.Task[None] | None = None
        self._returning: set[asyncio.Task[None]] = set()  # permits given back after a failure

    @classmethod
    def from_url(cls, url: str, permits: int, **options: Any) -> "RedisLimiter":
        """A limiter on its own Redis connection pool, closed by `aclose`."""
        return cls(Redis.from_url(url), permits, owns_redis=True, **options)

    @property
    def in_use(self) -> int:
        return len(self._held)

    async def in_use_everywhere(self) -> int:
        """Permits held by every process right now."""
        return int(await self._count_script(keys=[self.key]))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        member = await self._acquire()
        try:
            yield
        finally:
            await self._release(member)

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        held, self._held = list(self._held), set()
        if held:
            with contextlib.suppress(Exception):
                await self._redis.zrem(self.key, *held)
        if self._owns_redis:
            await self._redis.aclose()

    async def _acquire(self) -> str:
        member = f"{self._owner}:{next(self._numbers)}"
        async with self._line:
            while not await self._try(member):
                self._returned.clear()
                # Jitter, so the heads of several processes' lines do not poll in step.
                wait = self.poll_seconds * (0.5 + random.random())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._returned.wait(), wait)
        self._held.add(member)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_forever())
        return member

    async def _try(self, member: str) -> bool:
        try:
            taken = await self._acquire_script(
                keys=[self.key], args=[self.permits, self.lease_seconds, member]
            )
        except BaseException:
            # The script may have run before the reply was lost: give the permit back now
            # rather than let it sit out its lease.
            task = asyncio.ensure_future(self._forget(member))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)
            raise
        return bool(taken)

    async def _release(self, member: str) -> None:
        self._held.discard(member)
        self._returned.set()
        await asyncio.shield(self._forget(member))

    async def _forget(self, member: str) -> None:
        try:
            await self._redis.zrem(self.key, member)
        except Exception as exc:  # the lease runs out instead
            log.warning("judge permit not returned (%s); its lease will expire", exc)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            held = list(self._held)
            if not held:
                continue
            try:
                renewed = await self._renew_script(
                    keys=[self.key], args=[self.lease_seconds, *held]
                )
            except Exception as exc:
                log.warning("judge permits not renewed (%s); retrying", exc)
                continue
            if int(renewed) < len(held):
                # Held here but expired there (this process stalled for a whole lease): the
                # deployment may briefly run over its limit by that many calls.
                log.warning("%d judge permit lease(s) expired before renewal", len(held) - renewed)
