"""Cheap repeated views: an in-process cache of built boards and rendered bodies, and HTTP
validators (ETag, Cache-Control, 304).

Every leaderboard response is keyed by the request's view parameters and the database's change
stamp (`app.services.leaderboard.board_stamp`, one small query): while nothing changes, a view
is built and rendered once per process, and a client that sends back the ETag gets a 304 with no
body. Entries also expire after `max_age_seconds`, which bounds how long an edit the stamp cannot
see (model metadata changed in place) stays hidden. Concurrent requests for a missing key share
one build instead of stampeding the database.
"""

import asyncio
import gzip
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response

T = TypeVar("T")

CACHE_CONTROL = "public, max-age=15, must-revalidate"
"""Browsers and proxies may reuse a view for 15 s, then revalidate with If-None-Match."""

DEFAULT_MAX_ENTRIES = 512
DEFAULT_MAX_AGE_SECONDS = 60.0


GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Body:
    """A rendered response body, gzipped once when worth it, with a validator per encoding."""

    content: bytes
    media_type: str
    etag: str
    filename: str | None = None  # CSV: offered under this name
    gzipped: bytes | None = None

    @classmethod
    def of(cls, content: bytes | str, media_type: str, filename: str | None = None) -> "Body":
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        packed = (
            gzip.compress(data, compresslevel=6, mtime=0) if len(data) >= GZIP_MIN_BYTES else None
        )
        return cls(data, media_type, f'"{digest}"', filename, packed)

    @property
    def gzip_etag(self) -> str:
        """A different representation gets a different strong validator."""
        return self.etag[:-1] + '-gzip"'


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

    async def get_or_build(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        while True:
            found = self.get(key)
            if found is not None:
                self.hits += 1
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
            self.hits += 1
            return shared
        self.misses += 1
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


async def get_view_cache(request: Request) -> ViewCache:
    """One cache per app (tests run many apps, each on its own database, in one process)."""
    state = request.app.state
    cache: ViewCache | None = getattr(state, "leaderboard_views", None)
    if cache is None:
        cache = ViewCache()
        state.leaderboard_views = cache
    return cache


ViewCacheDep = Annotated[ViewCache, Depends(get_view_cache)]


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [part.strip() for part in header.split(",")]
    return any(c.removeprefix("W/") == etag for c in candidates)


def accepts_gzip(header: str | None) -> bool:
    """Accept-Encoding names gzip (or *) without q=0."""
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                return True
        except ValueError:
            continue
    return False


def respond(request: Request, body: Body, *, status_code: int = 200) -> Response:
    """The body with its ETag and Cache-Control, gzipped when the client takes it, or 304 when
    the client already holds it."""
    packed = body.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding"))
    etag = body.gzip_etag if packed else body.etag
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    sent = request.headers.get("if-none-match")
    if _etag_matches(sent, body.etag) or _etag_matches(sent, body.gzip_etag):
        return Response(status_code=304, headers=headers)
    if body.filename is not None:
        headers["Content-Disposition"] = f'inline; filename="{body.filename}"'
    if packed:
        headers["Content-Encoding"] = "gzip"
    content = body.gzipped if packed and body.gzipped is not None else body.content
    return Response(
        content=content, status_code=status_code, media_type=body.media_type, headers=headers
    )
