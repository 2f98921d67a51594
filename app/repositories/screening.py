"""Screening results of submissions and maintainers' decisions on them."""

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Model, Submission, SubmissionScreening, Team


async def get(session: AsyncSession, submission_id: int) -> SubmissionScreening | None:
    return await session.get(SubmissionScreening, submission_id)


async def flagged(
    session: AsyncSession,
    decisions: tuple[str | None, ...],
    limit: int,
    *,
    submission_id: int | None = None,
) -> list[tuple[SubmissionScreening, Submission, str, str | None]]:
    """(screening, submission, model name, team name) of submissions with flagged items whose
    decision is one of `decisions` (None: undecided), newest first."""
    wanted = [d for d in decisions if d is not None]
    condition: ColumnElement[bool] = SubmissionScreening.decision.in_(wanted)
    if None in decisions:
        condition = condition | SubmissionScreening.decision.is_(None)
    if submission_id is not None:
        condition = condition & (Submission.id == submission_id)
    rows = await session.execute(
        select(SubmissionScreening, Submission, Model.name, Team.name)
        .join(Submission, Submission.id == SubmissionScreening.submission_id)
        .join(Model, Model.id == Submission.model_id)
        .outerjoin(Team, Team.id == Submission.team_id)
        .where(SubmissionScreening.flagged_items > 0, condition)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    return [(s, sub, model, team) for s, sub, model, team in rows]
