"""The view cache and HTTP validators, without a database: single-flight builds, the change
stamp read at most once per interval, expiry, and gzip/ETag negotiation."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from starlette.requests import Request

from app.web.http_cache import Body, ViewCache, accepts_gzip, respond


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_misses_share_one_build() -> None:
    cache = ViewCache()
    builds = 0
    release = asyncio.Event()

    async def build() -> str:
        nonlocal builds
        builds += 1
        await release.wait()
        return "view"

    waiting = [asyncio.create_task(cache.get_or_build("k", build)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["view"] * 20
    assert builds == 1 and cache.misses == 1
    assert await cache.get_or_build("k", build) == "view" and builds == 1


async def test_a_failed_build_is_not_cached() -> None:
    cache = ViewCache()
    calls = 0

    async def build() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return "view"

    with pytest.raises(RuntimeError):
        await cache.get_or_build("k", build)
    assert await cache.get_or_build("k", build) == "view"


async def test_entries_expire_and_the_lru_is_bounded() -> None:
    clock = Clock()
    cache = ViewCache(max_entries=2, max_age_seconds=60, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    clock.now += 61
    assert cache.get("c") is None


async def test_the_stamp_is_read_at_most_once_per_interval() -> None:
    clock = Clock()
    cache = ViewCache(clock=clock)
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0)
        return reads

    first = await asyncio.gather(*(cache.stamp(read, 1.0) for _ in range(10)))
    assert first == [1] * 10 and reads == 1
    clock.now += 0.5
    assert await cache.stamp(read, 1.0) == 1
    clock.now += 0.6
    assert await cache.stamp(read, 1.0) == 2
    assert await cache.stamp(read, 0.0) == 3  # 0: every call looks


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("*", True),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_bodies_are_gzipped_once_and_validated_per_encoding() -> None:
    body = Body.of("x" * 5000, "text/html; charset=utf-8")
    assert body.gzipped is not None and gzip.decompress(body.gzipped) == body.content
    packed = respond(request(accept_encoding="gzip"), body)
    plain = respond(request(), body)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["etag"] == body.gzip_etag != plain.headers["etag"] == body.etag
    assert "content-encoding" not in plain.headers
    assert respond(request(if_none_match=body.etag), body).status_code == 304
    assert respond(request(if_none_match=f'"x", {body.gzip_etag}'), body).status_code == 304
    assert respond(request(if_none_match="*"), body).status_code == 304
    assert Body.of("tiny", "text/plain").gzipped is None
