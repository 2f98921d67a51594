"""A submission's status as its submitter may see it: aggregates, never per-item results.

Privacy: a submission is private until its team publishes it. A private one is visible to its
team's tokens, to maintainers, and to whoever holds its view key (the secret link handed out
with the upload, so a browser can follow it); to anyone else it does not exist (NotFound), so
ids cannot be probed for other teams' work.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import tokens_match
from app.db.base import utcnow
from app.db.models import (
    EvaluationRun,
    JudgeModel,
    Model,
    RunAggregate,
    Submission,
    SubmissionScreening,
)
from app.errors import NotFound
from app.repositories import accounts as accounts_repo
from app.repositories import judging as judging_repo
from app.repositories import runs as runs_repo
from app.repositories import submissions as submissions_repo
from app.runs import RunStatus
from app.services.accounts import Principal
from app.services.screening import get_screening
from app.services.submissions import get_model_of


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    model: Model
    team: str | None
    run: EvaluationRun | None  # the latest run of its own (a maintainer's rejudge aside)
    judge: JudgeModel | None
    aggregate: RunAggregate | None
    queue_position: int | None
    eta_seconds: float | None  # while judging, from the current attempt's pace
    owner_view: bool  # the viewer is its team or a maintainer (may publish, cancel, …)
    view_key: str | None  # handed to the owner only
    # Prompt-injection screening: for its team (token or view key) and maintainers only.
    screening: SubmissionScreening | None = None

    @property
    def progress_percent(self) -> float:
        run = self.run
        if run is None or not run.items_total:
            return 0.0
        return min(100.0, 100.0 * run.items_done / run.items_total)


def view_key(secret: bytes, submission_id: int) -> str:
    """The secret that lets a link show a private submission's status page."""
    message = f"submission-view:{submission_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def is_owner(submission: Submission, principal: Principal | None) -> bool:
    if principal is None:
        return False
    return principal.is_admin or (
        submission.team_id is not None and submission.team_id == principal.team_id
    )


def not_found(submission_id: int) -> NotFound:
    return NotFound(
        f"submission {submission_id} was not found. A private submission is visible only to "
        "its team: send the team's token (Authorization: Bearer …) or open its status link"
    )


async def visible_submission(
    session: AsyncSession,
    submission_id: int,
    principal: Principal | None,
    *,
    key: str | None = None,
    secret: bytes | None = None,
) -> Submission:
    submission = await submissions_repo.get(session, submission_id)
    if submission is None:
        raise not_found(submission_id)
    if submission.published or is_owner(submission, principal):
        return submission
    if key and secret and tokens_match(key, view_key(secret, submission.id)):
        return submission
    raise not_found(submission_id)


def waiting_note(run: EvaluationRun) -> str | None:
    """What a waiting run says about itself: 'waiting for the judge, next try at 2026-12-01
    12:00:05 UTC (the judge was unavailable (timeout, 6 attempts))'. None for any other run."""
    if run.status != RunStatus.WAITING:
        return None
    when = run.next_try_at.strftime("%Y-%m-%d %H:%M:%S UTC") if run.next_try_at else "once due"
    note = f"waiting for the judge, next try at {when}"
    return f"{note} ({run.error})" if run.error else note


def eta_seconds(run: EvaluationRun, judged_this_attempt: int, now: datetime) -> float | None:
    """Time left at the current attempt's pace: the items the judge settled since this attempt
    started, over the time since. Items stored by earlier attempts, and unanswered items (no
    judge call), would make a restarted or half-empty run look faster than it is."""
    if run.status != RunStatus.JUDGING or run.started_at is None or judged_this_attempt <= 0:
        return None
    elapsed = max((now - run.started_at).total_seconds(), 0.0)
    remaining = max(run.items_total - run.items_done - run.judge_errors, 0)
    return elapsed / judged_this_attempt * remaining


async def submission_view(
    session: AsyncSession,
    submission_id: int,
    principal: Principal | None,
    *,
    key: str | None = None,
    secret: bytes,
) -> SubmissionView:
    submission = await visible_submission(session, submission_id, principal, key=key, secret=secret)
    by_key = bool(key) and tokens_match(key or "", view_key(secret, submission.id))
    return await view_of(session, submission, principal, secret=secret, team_view=by_key)


async def view_of(
    session: AsyncSession,
    submission: Submission,
    principal: Principal | None,
    *,
    secret: bytes,
    team_view: bool = False,
) -> SubmissionView:
    """The view of a submission the caller may already see (e.g. the one it just uploaded)."""
    model = await get_model_of(session, submission)
    team = None
    if submission.team_id is not None:
        team_row = await accounts_repo.get_team(session, submission.team_id)
        team = team_row.name if team_row else None
    run = await submissions_repo.latest_own_run(session, submission.id)
    judge = aggregate = position = eta = None
    if run is not None:
        judge = await judging_repo.get_judge_model(session, run.judge_model_id)
        if run.status == RunStatus.SCORED:
            aggregate = await runs_repo.get_aggregate(session, run.id)
        elif run.status == RunStatus.QUEUED:
            position = await runs_repo.queue_position(session, run)
        elif run.status == RunStatus.JUDGING and run.started_at is not None:
            judged = await runs_repo.judged_since(session, run.id, run.started_at)
            eta = eta_seconds(run, judged, utcnow())
    owner = is_owner(submission, principal)
    return SubmissionView(
        submission=submission,
        model=model,
        team=team,
        run=run,
        judge=judge,
        aggregate=aggregate,
        queue_position=position,
        eta_seconds=eta,
        owner_view=owner,
        view_key=view_key(secret, submission.id) if owner else None,
        screening=await get_screening(session, submission.id) if owner or team_view else None,
    )
