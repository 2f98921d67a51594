"""Leaderboard models and the paper's reported results."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import Model, ReportedResult
from app.repositories.upsert import upsert


async def get_by_name(session: AsyncSession, name: str) -> Model | None:
    return await session.scalar(select(Model).where(Model.name == name))


async def get_reported(session: AsyncSession, model_id: int) -> ReportedResult | None:
    return await session.get(ReportedResult, model_id)


async def get_by_name_folded(session: AsyncSession, name: str) -> Model | None:
    """A model whose name equals `name` ignoring case (names must not differ only in case)."""
    return await session.scalar(
        select(Model).where(func.lower(Model.name) == name.lower()).order_by(Model.id).limit(1)
    )


async def names_folded(session: AsyncSession, name: str) -> list[str]:
    """Every model name equal to `name` ignoring case, by name (older rows may differ only in
    case: a model URL must then say which it means)."""
    rows = await session.scalars(
        select(Model.name).where(func.lower(Model.name) == name.lower()).order_by(Model.name)
    )
    return list(rows)


async def add_if_absent(session: AsyncSession, values: dict[str, Any]) -> Model:
    """Insert a model unless one with its name exists (a concurrent upload may have just
    registered it); returns the stored row either way."""
    row = {"created_at": utcnow(), **values}
    await upsert(session, Model, [row], key=["name"])
    stored = await get_by_name(session, values["name"])
    assert stored is not None
    return stored


async def get(session: AsyncSession, model_id: int) -> Model | None:
    return await session.get(Model, model_id)
