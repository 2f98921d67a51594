"""Teams and API tokens."""

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApiToken, Team


async def get_team_by_name(session: AsyncSession, name: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.name == name))


async def get_team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def active_token_by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    return await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    )


async def active_token_by_id(session: AsyncSession, token_id: int) -> ApiToken | None:
    return await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    )


async def touch_token(
    session: AsyncSession, token_id: int, now: datetime, *, not_since: datetime
) -> bool:
    """Set last_used_at = now unless it is already at or after `not_since`."""
    result = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < not_since),
        )
        .values(last_used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def lock_team_uploads(session: AsyncSession, team_id: int) -> None:
    """Serialise a team's uploads until the transaction ends (see Team.upload_sequence)."""
    await session.execute(
        update(Team).where(Team.id == team_id).values(upload_sequence=Team.upload_sequence + 1)
    )
