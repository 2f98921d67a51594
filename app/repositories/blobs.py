"""Content-addressed bytes in the database (the `database` file store)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import Blob
from app.repositories.upsert import upsert


async def put(session: AsyncSession, sha256: str, data: bytes) -> None:
    """Insert-or-nothing: the same content stored twice (or by two processes) is one row."""
    row = {"sha256": sha256, "size_bytes": len(data), "data": data, "created_at": utcnow()}
    await upsert(session, Blob, [row], key=["sha256"])


async def get(session: AsyncSession, sha256: str) -> bytes | None:
    data: bytes | None = await session.scalar(select(Blob.data).where(Blob.sha256 == sha256))
    return data
