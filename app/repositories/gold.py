"""Gold versions and items. Callers must keep what they read here on the server."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import GoldItem, GoldVersion
from app.tracks import Track


async def get_version_by_digest(session: AsyncSession, digest: str) -> GoldVersion | None:
    return await session.scalar(select(GoldVersion).where(GoldVersion.digest == digest))


async def current_version(session: AsyncSession) -> GoldVersion | None:
    """The most recently imported gold version is the one new submissions are scored against."""
    return await session.scalar(select(GoldVersion).order_by(GoldVersion.id.desc()).limit(1))


async def get_version(session: AsyncSession, version_id: int) -> GoldVersion | None:
    return await session.get(GoldVersion, version_id)


async def items_for_track(session: AsyncSession, version_id: int, track: Track) -> list[GoldItem]:
    result = await session.scalars(
        select(GoldItem)
        .where(GoldItem.gold_version_id == version_id, GoldItem.track == track.value)
        .order_by(GoldItem.item_id)
    )
    return list(result)


async def item_tracks(session: AsyncSession, version_id: int) -> dict[str, Track]:
    rows = await session.execute(
        select(GoldItem.item_id, GoldItem.track).where(GoldItem.gold_version_id == version_id)
    )
    return {item_id: Track(track) for item_id, track in rows}


async def public_inputs(
    session: AsyncSession, version_id: int, track: Track
) -> list[tuple[str, str, str | None, list[str]]]:
    """(id, question, context, images) of a track's items: the only gold columns a
    participant's kit may carry. Answers and the other gold columns are never selected."""
    rows = await session.execute(
        select(GoldItem.item_id, GoldItem.question, GoldItem.context, GoldItem.images)
        .where(GoldItem.gold_version_id == version_id, GoldItem.track == track.value)
        .order_by(GoldItem.item_id)
    )
    return [
        (item_id, question, context, list(images or []))
        for item_id, question, context, images in rows
    ]
