"""The judge cache in the database, so every worker process shares it."""

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.judge.types import Verdict
from app.repositories import judging as judging_repo
from app.unit_of_work import transaction


class DatabaseJudgeCache:
    """Each lookup and each batch of verdicts the judge client hands over is its own short unit
    of work: a verdict is shared with every worker as soon as it is stored."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get_many(self, keys: Sequence[str]) -> dict[str, Verdict]:
        async with transaction(self._sessions) as session:
            return await judging_repo.cached_verdicts(session, keys)

    async def put_many(self, entries: Mapping[str, Verdict]) -> None:
        async with transaction(self._sessions) as session:
            await judging_repo.store_verdicts(session, entries)
