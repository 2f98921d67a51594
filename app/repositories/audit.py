"""The audit log of maintainer actions."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent


async def recent(session: AsyncSession, limit: int = 200) -> list[AuditEvent]:
    result = await session.scalars(
        select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    )
    return list(result)
