"""The rubric version and judge model each track is scored under."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import JudgeModel
from app.errors import ServiceNotReady
from app.judge import STANDIN_MODEL
from app.repositories import judging as judging_repo
from app.rubrics.loader import bundled_rubrics, parse_rubric
from app.rubrics.model import Rubric
from app.tracks import Track


@dataclass(frozen=True)
class ActivePair:
    rubric_version: str
    judge_model_id: int
    judge_model: str


async def ensure_track_configuration(session: AsyncSession, settings: Settings) -> None:
    """Register the bundled rubrics and the configured judge; give every track without an
    active pair those. An existing active pair is left alone: changing it is a rejudge."""
    judge = await judging_repo.ensure_judge_model(
        session, settings.judge_model, is_reference=settings.judge_model == STANDIN_MODEL
    )
    for track, rubric in bundled_rubrics().items():
        await judging_repo.ensure_rubric_version(session, rubric)
        await judging_repo.add_missing_track_config(session, track, rubric.version, judge.id)


async def active_pair(session: AsyncSession, track: Track) -> ActivePair:
    config = (await judging_repo.track_configs(session)).get(track)
    if config is None:
        raise ServiceNotReady(
            f"track {track} has no active rubric yet; run `mmrare db upgrade` and start the service"
        )
    judge = await judging_repo.get_judge_model(session, config.judge_model_id)
    assert judge is not None  # enforced by the foreign key
    return ActivePair(config.rubric_version, judge.id, judge.name)


async def active_judges(session: AsyncSession) -> dict[Track, JudgeModel]:
    """Each configured track's active judge model (for the maintainers' tracks table)."""
    judges = {}
    for track, config in (await judging_repo.track_configs(session)).items():
        judge = await judging_repo.get_judge_model(session, config.judge_model_id)
        assert judge is not None  # enforced by the foreign key
        judges[track] = judge
    return judges


async def load_rubric(session: AsyncSession, version: str) -> Rubric:
    row = await judging_repo.get_rubric_version(session, version)
    if row is None:
        raise ServiceNotReady(f"rubric version {version[:12]} is not registered")
    return parse_rubric(row.source, origin=f"rubric {version[:12]}")
