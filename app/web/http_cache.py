"""Cheap repeated views: an in-process cache of built boards and rendered bodies, and HTTP
validators (ETag, Cache-Control, 304).

Every leaderboard response is keyed by the request's view parameters and the database's change
stamp (`app.services.leaderboard.board_stamp`, one small query): while nothing changes, a view
is built and rendered once per process, and a client that sends back the ETag gets a 304 with no
body. Entries also expire after `max_age_seconds`, which bounds how long an edit the stamp cannot
see (model metadata changed in place) stays hidden. Concurrent requests for a missing key share
one build instead of stampeding the database.
"""

import gzip
import hashlib
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response

from app.view_cache import ViewCache as ViewCache  # served from here to the routes
from app.web.deps import RuntimeDep

T = TypeVar("T")

CACHE_CONTROL = "public, max-age=15, must-revalidate"
"""Browsers and proxies may reuse a view for 15 s, then revalidate with If-None-Match."""

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


async def get_view_cache(runtime: RuntimeDep) -> ViewCache:
    """The process's leaderboard view cache, built with its runtime."""
    return runtime.view_cache


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
