"""What every command family shares: the error type and running one unit of work."""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.session import create_engine, create_session_factory
from app.unit_of_work import transaction

T = TypeVar("T")

Subparsers = argparse._SubParsersAction


class CommandError(Exception):
    """A failure to report on stderr with exit code 1 (no traceback)."""


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` as one unit of work against the configured database."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
