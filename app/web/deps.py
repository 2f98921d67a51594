"""Typed dependencies, declared once."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Keys, Settings
from app.formats.text import MAX_ROW_ID
from app.runtime import Runtime
from app.storage import FileStore
from app.unit_of_work import UnitOfWork, unit_of_work
from app.web.api.schemas.fields import PlainName


# The helpers below are `async def` although they only read: FastAPI runs a plain `def`
# dependency in a worker thread, which costs more than the whole request on a cached page.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_unit_of_work(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    """A request is one unit of work. It commits once, after the route returns and before the
    response is sent (scope="function"), and only then are the jobs it recorded enqueued; a
    failed commit answers 500. A route that raises is rolled back. A route that must keep what
    it recorded while answering 4xx (a rejected upload) returns its error response instead of
    raising."""
    async with unit_of_work(runtime.sessions, runtime.queue) as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


async def get_session(uow: UnitOfWorkDep) -> AsyncSession:
    """The session of the request's unit of work: routes never commit it themselves."""
    return uow.session


async def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_keys(runtime: RuntimeDep) -> Keys:
    return runtime.keys


async def get_store(runtime: RuntimeDep) -> FileStore:
    return runtime.store


def cookies_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: COOKIE_SECURE says the site is served over https
    (behind a TLS proxy the request itself arrives as http), or the request came over https."""
    runtime: Runtime = request.app.state.runtime
    return runtime.settings.cookie_secure or request.url.scheme == "https"


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
KeysDep = Annotated[Keys, Depends(get_keys)]
StoreDep = Annotated[FileStore, Depends(get_store)]

# Row ids in paths: the id columns are 32-bit integers in PostgreSQL, so a larger number is
# refused here (422) instead of failing in the database.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2,147,483,647)")]
# A model's name in a path: refused with a 422 naming the character when no name could hold it.
ModelName = Annotated[PlainName, Path(description="the model's name, as shown on the board")]
