"""The leaderboard view cache: a small in-process LRU with a time limit per entry and
single-flight builds. One per process, held by its Runtime; app.web.http_cache serves from it."""

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from app.observability.metrics import CACHE_LOOKUPS

_HIT = CACHE_LOOKUPS.labels(cache="view", result="hit")
_MISS = CACHE_LOOKUPS.labels(cache="view", result="miss")

T = TypeVar("T")

DEFAULT_MAX_ENTRIES = 512
DEFAULT_MAX_AGE_SECONDS = 60.0


class ViewCache:
    """A small LRU with a time limit per entry and single-flight builds."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._building: dict[Hashable, asyncio.Future[Any]] = {}
        self._stamp: Hashable | None = None
        self._stamp_at = -math.inf
        self._stamp_pending: asyncio.Future[Hashable] | None = None
        self.hits = 0
        self.misses = 0
        self.stamp_reads = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def get(self, key: Hashable) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            return None
        created, value = found
        if self._clock() - created > self.max_age_seconds:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def stamp(
        self, read: Callable[[], Awaitable[Hashable]], recheck_seconds: float
    ) -> Hashable:
        """The database's change stamp, read at most once per `recheck_seconds` per process.

        Concurrent callers share one read. With 0 every call reads it (tests, tiny sites).
        """
        if self._stamp is not None and self._clock() - self._stamp_at < recheck_seconds:
            return self._stamp
        if self._stamp_pending is not None:
            return await asyncio.shield(self._stamp_pending)
        future: asyncio.Future[Hashable] = asyncio.get_running_loop().create_future()
        self._stamp_pending = future
        try:
            value = await read()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()
            raise
        else:
            self.stamp_reads += 1
            self._stamp, self._stamp_at = value, self._clock()
            future.set_result(value)
            return value
        finally:
            self._stamp_pending = None

    def _hit(self) -> None:
        self.hits += 1
        _HIT.inc()

    async def get_or_build(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        while True:
            found = self.get(key)
            if found is not None:
                self._hit()
                value: T = found
                return value
            pending = self._building.get(key)
            if pending is None:
                break
            try:
                shared: T = await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if pending.cancelled() and task is not None and not task.cancelling():
                    continue  # the builder's request went away, not ours: build it ourselves
                raise
            self._hit()
            return shared
        self.misses += 1
        _MISS.inc()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            result = await build()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(result)
            self.put(key, result)
            return result
        finally:
            del self._building[key]
