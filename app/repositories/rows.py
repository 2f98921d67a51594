"""Adding a new row, the same for every table: added and flushed (never committed), so its id
and column defaults are there for what comes next in the unit of work."""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base

RowT = TypeVar("RowT", bound=Base)


async def add_row(session: AsyncSession, row: RowT) -> RowT:
    session.add(row)
    await session.flush()
    return row
