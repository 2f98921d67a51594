"""Leaderboard models and the paper's reported results."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Model, ReportedResult


async def get_by_name(session: AsyncSession, name: str) -> Model | None:
    return await session.scalar(select(Model).where(Model.name == name))


async def add(session: AsyncSession, model: Model) -> Model:
    session.add(model)
    await session.flush()
    return model


async def all_models(session: AsyncSession) -> list[Model]:
    return list(await session.scalars(select(Model).order_by(Model.name)))


async def reported_results(session: AsyncSession) -> list[tuple[Model, ReportedResult]]:
    rows = await session.execute(
        select(Model, ReportedResult).join(ReportedResult, ReportedResult.model_id == Model.id)
    )
    return [(model, reported) for model, reported in rows]


async def get_reported(session: AsyncSession, model_id: int) -> ReportedResult | None:
    return await session.get(ReportedResult, model_id)
