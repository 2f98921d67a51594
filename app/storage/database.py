"""The `database` file store: content-addressed rows of the `blobs` table, readable from every
host; STORAGE_DIR holds this host's cache of the files the judge prompt reads (gold images)."""

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import blobs as blobs_repo
from app.storage import cached_file, sha256_hex


class DatabaseStore:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir

    async def put(self, session: AsyncSession, data: bytes) -> str:
        digest = await asyncio.to_thread(sha256_hex, data)
        await blobs_repo.put(session, digest, data)
        return digest

    async def read(self, session: AsyncSession, sha256: str) -> bytes:
        data = await blobs_repo.get(session, sha256)
        if data is None:
            raise FileNotFoundError(f"no stored file with sha256 {sha256}")
        return data

    async def local_file(self, session: AsyncSession, sha256: str, suffix: str) -> Path:
        return await cached_file(
            self.cache_dir, sha256, suffix, lambda: blobs_repo.get(session, sha256)
        )

    async def aclose(self) -> None:
        pass  # the engine, closed by the runtime, holds the connections
