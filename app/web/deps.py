"""Typed dependencies, declared once."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.queue import JobQueue
from app.storage import FileStore
from app.web.state import AppState


# The helpers below are `async def` although they only read: FastAPI runs a plain `def`
# dependency in a worker thread, which costs more than the whole request on a cached page.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.mmrare
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A request is one unit of work: routes that change data commit once, at the end."""
    async with state.runtime.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


async def get_settings_dep(state: StateDep) -> Settings:
    return state.runtime.settings


async def get_queue(state: StateDep) -> JobQueue:
    return state.queue


async def get_store(state: StateDep) -> FileStore:
    return state.runtime.store


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
StoreDep = Annotated[FileStore, Depends(get_store)]
