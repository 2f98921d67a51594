"""INSERT … ON CONFLICT DO UPDATE for the two backends we run on."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    key: Iterable[str],
    update: Iterable[str] | None = None,
) -> None:
    """Insert rows; on a key clash update `update` columns (or do nothing when it is None)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(list(rows))
    key_columns = list(key)
    if update is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=key_columns)
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=key_columns, set_={name: stmt.excluded[name] for name in update}
        )
    await session.execute(stmt)
