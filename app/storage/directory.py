"""The `directory` file store: content-addressed files under one local directory."""

import asyncio
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.storage import fanned_out, sha256_hex, write_file


class DirectoryStore:
    """Files at STORAGE_DIR/ab/abcdef…. Writes are done at once (not at commit): they are
    idempotent, and a file no row names is only a few unused bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, session: AsyncSession, data: bytes) -> str:
        # Off the event loop: an upload is up to MAX_UPLOAD_BYTES.
        return await asyncio.to_thread(self._put, data)

    async def read(self, session: AsyncSession, sha256: str) -> bytes:
        return await asyncio.to_thread(fanned_out(self.root, sha256).read_bytes)

    async def local_file(self, session: AsyncSession, sha256: str, suffix: str) -> Path:
        return await asyncio.to_thread(self._named, sha256, suffix)

    async def aclose(self) -> None:
        pass  # nothing held open

    def _put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        target = fanned_out(self.root, digest)
        if not target.exists():
            write_file(target, data)
        return digest

    def _named(self, sha256: str, suffix: str) -> Path:
        """The stored file under a name with `suffix`: a hard link beside it (a copy where the
        file system has none). Nothing stored: a path that does not exist."""
        content = fanned_out(self.root, sha256)
        named = fanned_out(self.root, sha256, suffix)
        if not suffix or named.exists() or not content.exists():
            return named
        try:
            os.link(content, named)
        except FileExistsError:
            pass  # another process linked it first
        except OSError:
            write_file(named, content.read_bytes())
        return named
