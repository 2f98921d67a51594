"""Prompt-injection screening of uploads, and maintainers' decisions on flagged submissions.

Screening runs at upload, on the parsed predictions, before the first run is queued
(`app.screening` holds the rules). Flagged items are judged like any other; the submission
cannot be published until a maintainer *clears* the flags (false alarms) or *upholds* them (the
predictions address the judge: it stays off the board). Decisions go to the audit log.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import FlagDecision, Submission, SubmissionScreening
from app.errors import Conflict, NotFound
from app.repositories import screening as screening_repo
from app.repositories import submissions as submissions_repo
from app.repositories.rows import add_row
from app.screening import RULESET_VERSION, ItemFlag, screen_predictions
from app.services.audit import check_note, record_event
from app.tracks import Track

PENDING = "pending"
DecisionFilter = Literal["pending", "cleared", "upheld", "all"]
ALL_DECISIONS = (None, FlagDecision.CLEARED, FlagDecision.UPHELD)


def screen_tracks(predictions: Mapping[Track, Mapping[str, str]]) -> dict[Track, list[ItemFlag]]:
    """The flagged items of each track's predictions (id → text). Pure; CPU only."""
    return {track: screen_predictions(items) for track, items in predictions.items()}


async def record(
    session: AsyncSession, submission: Submission, flags: list[ItemFlag]
) -> SubmissionScreening:
    """Store the screening of a newly accepted submission (ids and rule ids only)."""
    return await add_row(
        session,
        SubmissionScreening(
            submission_id=submission.id,
            ruleset_version=RULESET_VERSION,
            flagged_items=len(flags),
            flags=[{"id": flag.item_id, "rules": list(flag.rules)} for flag in flags],
        ),
    )


def decision_state(screening: SubmissionScreening | None) -> str | None:
    """None (nothing flagged, or screened before screening existed), "pending", "cleared" or
    "upheld"."""
    if screening is None or screening.flagged_items == 0:
        return None
    return screening.decision or PENDING


def publish_refusal(submission_id: int, screening: SubmissionScreening | None) -> Conflict | None:
    """Why a submission may not be published because of its flags, or None."""
    state = decision_state(screening)
    if state is None or state == FlagDecision.CLEARED:
        return None
    assert screening is not None
    count = screening.flagged_items
    if state == FlagDecision.UPHELD:
        return Conflict(
            f"submission {submission_id} cannot be published: a maintainer upheld the "
            f"prompt-injection flag on {count} item(s), so it stays off the leaderboard. Remove "
            "text addressed to the judge from those predictions and upload a new file"
        )
    return Conflict(
        f"submission {submission_id} cannot be published yet: {count} item(s) were flagged by "
        "prompt-injection screening (see `screening` in its status). A maintainer must clear "
        "or uphold the flags first; ask them to review it, or upload a file without text "
        "addressed to the judge"
    )


async def check_publishable(session: AsyncSession, submission: Submission) -> None:
    """Raise Conflict (409) while flagged items await a decision, or after one was upheld."""
    refusal = publish_refusal(submission.id, await screening_repo.get(session, submission.id))
    if refusal is not None:
        raise refusal


async def get_screening(session: AsyncSession, submission_id: int) -> SubmissionScreening | None:
    return await screening_repo.get(session, submission_id)


@dataclass(frozen=True)
class FlaggedSubmission:
    screening: SubmissionScreening
    submission: Submission
    model: str
    team: str | None

    @property
    def state(self) -> str:
        return decision_state(self.screening) or PENDING


async def flagged_submissions(
    session: AsyncSession, which: DecisionFilter = "pending", limit: int = 200
) -> list[FlaggedSubmission]:
    decisions: tuple[str | None, ...] = {
        "pending": (None,),
        "cleared": (FlagDecision.CLEARED,),
        "upheld": (FlagDecision.UPHELD,),
        "all": ALL_DECISIONS,
    }[which]
    rows = await screening_repo.flagged(session, decisions, limit)
    return [FlaggedSubmission(*row) for row in rows]


async def flagged_submission(session: AsyncSession, submission_id: int) -> FlaggedSubmission:
    rows = await screening_repo.flagged(
        session, ALL_DECISIONS, limit=1, submission_id=submission_id
    )
    if not rows:
        raise NotFound(f"submission {submission_id} has no flagged items")
    return FlaggedSubmission(*rows[0])


@dataclass(frozen=True)
class DecisionOutcome:
    screening: SubmissionScreening
    changed: bool
    unpublished: bool
    decided_at: datetime | None


async def decide(
    session: AsyncSession,
    submission_id: int,
    decision: FlagDecision,
    *,
    actor: str,
    note: str | None = None,
) -> DecisionOutcome:
    """Clear or uphold a submission's flags; audited. Upholding takes a published submission
    off the board. Deciding the same way again changes nothing."""
    note = (note or "").strip() or None
    check_note(note)
    # Locked like a publish (submission_actions.set_published), so the two never interleave.
    submission = await submissions_repo.get(session, submission_id, for_update=True)
    if submission is None:
        raise NotFound(f"submission {submission_id} was not found; check the id")
    screening = await screening_repo.get(session, submission_id)
    if screening is None or screening.flagged_items == 0:
        raise Conflict(
            f"submission {submission_id} has no flagged items; there is nothing to clear or "
            "uphold (`mmrare flags list` shows the submissions awaiting a decision)"
        )
    if screening.decision == decision:
        return DecisionOutcome(screening, False, False, screening.decided_at)
    previous = screening.decision
    screening.decision = decision
    screening.decided_by = actor
    screening.decided_at = utcnow()
    screening.decision_note = note
    unpublished = decision == FlagDecision.UPHELD and submission.published
    if unpublished:
        await submissions_repo.set_published(session, submission, False)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="submission.flags_clear"
        if decision == FlagDecision.CLEARED
        else "submission.flags_uphold",
        target=f"submission:{submission_id}",
        details={
            "flagged_items": screening.flagged_items,
            "ruleset_version": screening.ruleset_version,
            "previous": previous or PENDING,
            "unpublished": unpublished,
            **({"note": note} if note else {}),
        },
    )
    return DecisionOutcome(screening, True, unpublished, screening.decided_at)
