"""Rubric versions, judge models, each track's active pair, and the shared judge cache."""

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import JudgeCacheEntry, JudgeModel, RubricVersion, TrackConfig
from app.judge.types import Verdict
from app.repositories.upsert import upsert
from app.rubrics.model import Rubric
from app.tracks import Track


async def ensure_rubric_version(
    session: AsyncSession, rubric: Rubric, *, note: str | None = None
) -> RubricVersion:
    """Register a rubric by its content hash; registering the same content again is a no-op
    (its note stays the first one's)."""
    # Insert-or-nothing: API and worker processes may start at once on an empty database.
    row = {
        "version": rubric.version,
        "track": rubric.track.value,
        "title": rubric.title,
        "source": rubric.source,
        "note": note,
        "created_at": utcnow(),
    }
    await upsert(session, RubricVersion, [row], key=["version"])
    stored = await session.get(RubricVersion, rubric.version)
    assert stored is not None
    return stored


async def get_rubric_version(session: AsyncSession, version: str) -> RubricVersion | None:
    return await session.get(RubricVersion, version)


async def ensure_judge_model(session: AsyncSession, name: str, *, is_reference: bool) -> JudgeModel:
    row = {"name": name, "is_reference": is_reference, "created_at": utcnow()}
    await upsert(session, JudgeModel, [row], key=["name"])
    stored = await session.scalar(select(JudgeModel).where(JudgeModel.name == name))
    assert stored is not None
    return stored


async def get_judge_model(session: AsyncSession, judge_model_id: int) -> JudgeModel | None:
    return await session.get(JudgeModel, judge_model_id)


async def track_configs(session: AsyncSession) -> dict[Track, TrackConfig]:
    rows = await session.scalars(select(TrackConfig))
    return {Track(row.track): row for row in rows}


def _config_row(track: Track, rubric_version: str, judge_model_id: int) -> dict[str, object]:
    return {
        "track": track.value,
        "rubric_version": rubric_version,
        "judge_model_id": judge_model_id,
        "updated_at": utcnow(),
    }


async def set_track_config(
    session: AsyncSession, track: Track, rubric_version: str, judge_model_id: int
) -> TrackConfig:
    row = _config_row(track, rubric_version, judge_model_id)
    await upsert(
        session,
        TrackConfig,
        [row],
        key=["track"],
        update=["rubric_version", "judge_model_id", "updated_at"],
    )
    stored = await session.get(TrackConfig, track.value, populate_existing=True)
    assert stored is not None
    return stored


async def add_missing_track_config(
    session: AsyncSession, track: Track, rubric_version: str, judge_model_id: int
) -> None:
    row = _config_row(track, rubric_version, judge_model_id)
    await upsert(session, TrackConfig, [row], key=["track"])


async def cached_verdicts(session: AsyncSession, keys: Sequence[str]) -> dict[str, Verdict]:
    if not keys:
        return {}
    rows = await session.scalars(select(JudgeCacheEntry).where(JudgeCacheEntry.key.in_(keys)))
    return {row.key: Verdict(ratings=row.ratings, raw_reply=row.raw_reply) for row in rows}


async def store_verdicts(session: AsyncSession, entries: Mapping[str, Verdict]) -> None:
    rows = [
        {"key": key, "ratings": dict(verdict.ratings), "raw_reply": verdict.raw_reply}
        for key, verdict in entries.items()
    ]
    await upsert(session, JudgeCacheEntry, rows, key=["key"])


async def list_rubric_versions(
    session: AsyncSession, track: Track | None = None
) -> list[RubricVersion]:
    """Registered rubric versions, newest first (optionally of one track)."""
    query = select(RubricVersion).order_by(RubricVersion.created_at.desc(), RubricVersion.version)
    if track is not None:
        query = query.where(RubricVersion.track == track.value)
    return list(await session.scalars(query))


async def rubric_versions_with_prefix(session: AsyncSession, prefix: str) -> list[RubricVersion]:
    """Versions whose hash starts with `prefix` (at most a few, to report an ambiguity)."""
    query = select(RubricVersion).where(RubricVersion.version.startswith(prefix, autoescape=True))
    return list(await session.scalars(query.order_by(RubricVersion.version).limit(5)))


async def get_judge_model_by_name(session: AsyncSession, name: str) -> JudgeModel | None:
    return await session.scalar(select(JudgeModel).where(JudgeModel.name == name))
