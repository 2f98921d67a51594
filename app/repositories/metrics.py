"""Counts for the state gauges of /metrics."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EvaluationRun, Submission


async def submissions_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Submission.state, func.count()).group_by(Submission.state))
    return {str(state): int(count) for state, count in rows.all()}


async def runs_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(EvaluationRun.status, func.count()).group_by(EvaluationRun.status)
    )
    return {str(status): int(count) for status, count in rows.all()}
