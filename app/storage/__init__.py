"""Stored files — uploads and the gold bundle's images — content-addressed by sha256.

Two stores, one protocol, chosen by `STORAGE_BACKEND` (`build_store`):

* `directory` — files under `STORAGE_DIR`, readable only by processes on this host: the
  embedded default (SQLite, one box).
* `database` — rows of the `blobs` table, readable by every process that reaches the database,
  on any host; `STORAGE_DIR` is then only this host's cache of files handed to the judge prompt.
  The default whenever `DATABASE_URL` is PostgreSQL.

A write joins the caller's unit of work (the session it is given): stored bytes commit, or roll
back, with the rows that name them. Writing the same content twice is harmless (insert-or-nothing
on the hash; an existing file is left as it is).
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, StorageBackend


class FileStore(Protocol):
    async def put(self, session: AsyncSession, data: bytes) -> str:
        """Store `data` within `session`'s unit of work; return its sha256 (hex)."""
        ...

    async def read(self, session: AsyncSession, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when nothing is stored under `sha256`."""
        ...

    async def local_file(self, session: AsyncSession, sha256: str, suffix: str) -> Path:
        """A file on this host holding the bytes, its name ending in `suffix` (the judge prompt
        tells an image's type by it). The path does not exist when nothing is stored."""
        ...


def build_store(settings: Settings) -> FileStore:
    # Imported here: each store imports this module for `write_file`.
    from app.storage.database import DatabaseStore
    from app.storage.directory import DirectoryStore

    if settings.storage_backend_in_use is StorageBackend.DATABASE:
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
