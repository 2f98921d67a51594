"""Stored files — uploads and the gold bundle's images — content-addressed by sha256.

Three stores, one protocol, chosen by `STORAGE_BACKEND` (`build_store`):

* `directory` — files under `STORAGE_DIR`, readable only by processes on this host: the
  embedded default (SQLite, one box).
* `database` — rows of the `blobs` table, readable by every process that reaches the database,
  on any host; `STORAGE_DIR` is then only this host's cache of files handed to the judge prompt.
  The default whenever `DATABASE_URL` is PostgreSQL.
* `s3` — objects `{S3_PREFIX}{sha256}` in an S3-compatible bucket (`S3_BUCKET`), readable by
  every process that reaches the bucket; `STORAGE_DIR` is again only this host's cache. Needs
  the `s3` extra (boto3).

Writing the same content twice is harmless (one row, one file, one object: the key is the
hash). How a write meets the caller's unit of work (the session it is given) differs:

* `database`: the bytes are rows of that session, so they commit, or roll back, with the rows
  that name them.
* `directory` and `s3`: the bytes are written at once, before the rows that name them commit,
  so a committed row never names missing bytes. A unit of work that rolls back leaves bytes no
  row names: unused space, never a wrong answer, since the same content stored again later
  lands under the same name.
"""

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, StorageBackend


class FileStore(Protocol):
    async def put(self, session: AsyncSession, data: bytes) -> str:
        """Store `data` for `session`'s unit of work (with it, or at once: see above); return
        its sha256 (hex)."""
        ...

    async def read(self, session: AsyncSession, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when nothing is stored under `sha256`."""
        ...

    async def local_file(self, session: AsyncSession, sha256: str, suffix: str) -> Path:
        """A file on this host holding the bytes, its name ending in `suffix` (the judge prompt
        tells an image's type by it). The path does not exist when nothing is stored."""
        ...

    async def aclose(self) -> None:
        """Release what the store holds open (the s3 store's connections), at shutdown."""
        ...


def build_store(settings: Settings) -> FileStore:
    """The store `STORAGE_BACKEND` names. Raises ConfigurationError when the s3 store lacks its
    bucket or boto3, so a process refuses to start rather than fail its first upload."""
    # Imported here: each store imports this module for its helpers.
    from app.storage.database import DatabaseStore
    from app.storage.directory import DirectoryStore
    from app.storage.s3 import S3Store

    backend = settings.storage_backend_in_use
    if backend is StorageBackend.S3:
        return S3Store.from_settings(settings)
    if backend is StorageBackend.DATABASE:
        return DatabaseStore(settings.storage_dir)
    return DirectoryStore(settings.storage_dir)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fanned_out(root: Path, sha256: str, suffix: str = "") -> Path:
    """root/ab/abcdef…: 256 subdirectories keep any one directory small."""
    return root / sha256[:2] / f"{sha256}{suffix}"


def write_file(target: Path, data: bytes) -> None:
    """Write-then-rename: a crash never leaves a half-written file under its final name, and
    two processes writing the same content both end with the whole file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def cached_file(
    cache_dir: Path, sha256: str, suffix: str, fetch: Callable[[], Awaitable[bytes | None]]
) -> Path:
    """`local_file` for a store kept elsewhere (the database, a bucket): the bytes are fetched
    once per host into `cache_dir`. The cached file is named by its content, so it never goes
    stale. `fetch` returns None when nothing is stored; the path then does not exist."""
    target = fanned_out(cache_dir, sha256, suffix)
    if await asyncio.to_thread(target.exists):
        return target
    data = await fetch()
    if data is not None:
        await asyncio.to_thread(write_file, target, data)
    return target
