"""What a team may do with its own submissions: publish, unpublish, cancel, re-queue.

Each acts on the submission's latest run of its own (a maintainer's rejudge run is not the
team's to cancel). Status changes are compare-and-set through `runs_repo.transition`; a
re-queue returns the (run, attempt) to enqueue after the caller commits.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import EvaluationRun, Submission, SubmissionState
from app.errors import Conflict, Forbidden
from app.repositories import accounts as accounts_repo
from app.repositories import runs as runs_repo
from app.repositories import submissions as submissions_repo
from app.runs import ACTIVE, RunStatus
from app.services import reaper
from app.services.accounts import Principal
from app.services.audit import record_event
from app.services.quota import WINDOW, check_quota, run_counts
from app.services.screening import check_publishable
from app.services.status import is_owner, not_found
from app.tracks import Track

CANCEL_ATTEMPTS = 3  # a run may move on between our read and our compare-and-set
AUDIT_VERBS = {"published": "publish", "pinned": "pin"}  # audited as submission.pin / .unpin


async def owned_submission(
    session: AsyncSession, principal: Principal, submission_id: int, *, lock: bool = False
) -> Submission:
    """The submission, if `principal` is its team or a maintainer. Another team's private
    submission does not exist for the caller (404); a published one is not theirs (403).
    `lock`: hold its row until the unit of work ends (see submissions_repo.get)."""
    submission = await submissions_repo.get(session, submission_id, for_update=lock)
    if submission is None or not (submission.published or is_owner(submission, principal)):
        raise not_found(submission_id)
    if not is_owner(submission, principal):
        raise Forbidden(
            f"submission {submission_id} belongs to another team; only its team can change it"
        )
    return submission


async def _own_run(session: AsyncSession, submission: Submission) -> EvaluationRun:
    if submission.state == SubmissionState.REJECTED:
        raise Conflict(
            f"submission {submission.id} was rejected (invalid file) and has no run; "
            "fix the file and upload it again"
        )
    run = await submissions_repo.latest_own_run(session, submission.id)
    assert run is not None  # an accepted submission is created with its first run
    return run


def check_ranked_coverage(submission: Submission, minimum: float) -> None:
    """A submission answering fewer than `minimum` of its track's gold items may be scored
    privately but not ranked: publishing it is refused with both numbers."""
    total = submission.total_items
    coverage = submission.answered / total if total else 0.0
    if coverage < minimum:
        raise Conflict(
            f"submission {submission.id} answers {submission.answered} of {total} "
            f"{submission.track} items ({coverage:.1%}); a published submission must answer at "
            f"least {minimum:.0%} of them (MIN_RANKED_COVERAGE). Its score stays private: "
            "upload a file that answers more items to be ranked"
        )


async def set_published(
    session: AsyncSession,
    principal: Principal,
    submission_id: int,
    published: bool,
    *,
    min_coverage: float = 0.0,
) -> Submission:
    """Show the submission on the leaderboard (once scored), or hide it again. Idempotent.

    Publishing needs at least `min_coverage` of the track's items answered (unpublishing never
    does), and is refused while prompt-injection flags await a maintainer's decision, or were
    upheld."""
    if published:
        # Locked: a maintainer upholding flags at the same moment waits for this publish to
        # commit and then takes it down, or this publish sees the upheld flag and is refused.
        submission = await owned_submission(session, principal, submission_id, lock=True)
        if submission.state != SubmissionState.REJECTED and not submission.published:
            check_ranked_coverage(submission, min_coverage)
        await check_publishable(session, submission)
    return await _set_flag(
        session, principal, submission_id, "published", published, submissions_repo.set_published
    )


async def set_pinned(
    session: AsyncSession, principal: Principal, submission_id: int, pinned: bool
) -> Submission:
    """Show this submission on its model's row instead of the latest one (one pin per model
    and track: pinning moves the pin), or go back to the latest. Idempotent."""
    return await _set_flag(
        session, principal, submission_id, "pinned", pinned, submissions_repo.set_pinned
    )


async def _set_flag(
    session: AsyncSession,
    principal: Principal,
    submission_id: int,
    flag: str,
    value: bool,
    write: Callable[[AsyncSession, Submission, bool], Awaitable[None]],
) -> Submission:
    """The owner's on/off switches, `flag` being "published" or "pinned": only accepted
    submissions can be switched on, and only a real change is written and audited."""
    submission = await owned_submission(session, principal, submission_id)
    if value and submission.state == SubmissionState.REJECTED:
        raise Conflict(
            f"submission {submission_id} was rejected (invalid file); only accepted "
            f"submissions can be {flag}"
        )
    if getattr(submission, flag) != value:
        await write(session, submission, value)
        verb = AUDIT_VERBS[flag]
        await record_event(
            session,
            actor=principal.label,
            action=f"submission.{verb}" if value else f"submission.un{verb}",
            target=f"submission:{submission_id}",
        )
    return submission


async def cancel(session: AsyncSession, principal: Principal, submission_id: int) -> EvaluationRun:
    """Stop a queued, judging or waiting submission. A judging worker notices at its next batch (its
    fenced progress update fails) and stops; items stored so far are kept."""
    submission = await owned_submission(session, principal, submission_id)
    for _ in range(CANCEL_ATTEMPTS):
        run = await _own_run(session, submission)
        await session.refresh(run)
        status = run.status
        if status not in ACTIVE:
            raise Conflict(
                f"submission {submission_id} is {status.value}; only a queued, judging or "
                "waiting submission can be cancelled"
            )
        if await runs_repo.transition(
            session, run.id, status, RunStatus.CANCELLED, finished_at=utcnow()
        ):
            await session.refresh(run)
            await record_event(
                session,
                actor=principal.label,
                action="submission.cancel",
                target=f"submission:{submission_id}",
                details={"run_id": run.id, "was": status.value},
            )
            return run
    raise Conflict(f"submission {submission_id} kept changing status; try again")


async def requeue(
    session: AsyncSession, principal: Principal, submission_id: int, limit: int
) -> tuple[int, int]:
    """Put a failed (or cancelled) submission back in the queue without re-uploading; items
    already stored are kept. Returns (run id, attempt) to enqueue after commit.

    A run that did not use up a quota slot (failed on the service's side, cancelled before
    judging) takes one again, so it needs a free slot like a new upload."""
    # First statement: the quota check below must not race the team's uploads.
    await accounts_repo.lock_team_uploads(session, principal.team_id)
    submission = await owned_submission(session, principal, submission_id)
    run = await _own_run(session, submission)
    status = run.status
    if status not in (RunStatus.FAILED, RunStatus.CANCELLED):
        raise Conflict(
            f"submission {submission_id} is {status.value}; only a failed or cancelled "
            "submission can be re-queued"
        )
    in_window = submission.created_at > utcnow() - WINDOW
    if in_window and not run_counts(run):
        await check_quota(session, principal, [Track(submission.track)], limit)
    attempt = await reaper.requeue(session, run.id, status)
    if attempt is None:
        raise Conflict(f"submission {submission_id} changed status meanwhile; try again")
    await record_event(
        session,
        actor=principal.label,
        action="submission.requeue",
        target=f"submission:{submission_id}",
        details={"run_id": run.id, "was": status.value, "attempt": attempt},
    )
    return run.id, attempt
