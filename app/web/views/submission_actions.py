"""The owner's actions on one submission, shared by the API (`POST /api/v1/submissions/{id}/
{verb}`) and the status page's forms: each verb, what it does, and what it says it changed."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.services.accounts import Principal
from app.services.submission_actions import cancel, requeue, set_pinned, set_published
from app.submission_verbs import DONE
from app.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ActionRequest:
    """What an action on one submission is handed: the request's settings and unit of work,
    the calling team and the submission."""

    settings: Settings
    uow: UnitOfWork
    principal: Principal
    submission_id: int

    @property
    def session(self) -> AsyncSession:
        return self.uow.session


async def _requeue(r: ActionRequest) -> None:
    run_id, attempt = await requeue(
        r.session, r.principal, r.submission_id, r.settings.submissions_per_day
    )
    r.uow.enqueue_run(run_id, attempt)  # sent once the request's unit of work commits


@dataclass(frozen=True)
class SubmissionAction:
    """`POST /submissions/{id}/{verb}`: `apply` changes the submission, the answer is its status."""

    verb: str
    description: str
    apply: Callable[[ActionRequest], Awaitable[object]]

    @property
    def label(self) -> str:
        """The button's text."""
        return "Re-queue" if self.verb == "requeue" else self.verb.capitalize()

    @property
    def command(self) -> str:
        """The same action from a shell, `{id}` left to fill in."""
        return f"mmrare submission {self.verb} {{id}}"

    @property
    def done(self) -> str:
        """What changed, in the past tense: "published", "cancelled" …"""
        return DONE[self.verb]


SUBMISSION_ACTIONS = (
    SubmissionAction(
        "publish",
        "Show the submission on the leaderboard once it is scored (its team only).",
        lambda r: set_published(
            r.session,
            r.principal,
            r.submission_id,
            True,
            min_coverage=r.settings.min_ranked_coverage,
        ),
    ),
    SubmissionAction(
        "unpublish",
        "Take the submission off the leaderboard again (its team only).",
        lambda r: set_published(r.session, r.principal, r.submission_id, False),
    ),
    SubmissionAction(
        "pin",
        "Show this submission on its model's leaderboard row instead of the latest one.",
        lambda r: set_pinned(r.session, r.principal, r.submission_id, True),
    ),
    SubmissionAction(
        "unpin",
        "Go back to showing the model's latest published scored submission.",
        lambda r: set_pinned(r.session, r.principal, r.submission_id, False),
    ),
    SubmissionAction(
        "cancel",
        "Stop a queued or judging submission; a worker stops at its next batch.",
        lambda r: cancel(r.session, r.principal, r.submission_id),
    ),
    SubmissionAction(
        "requeue",
        "Queue a failed or cancelled submission again, without re-uploading it.",
        _requeue,
    ),
)


ACTIONS_BY_VERB = {action.verb: action for action in SUBMISSION_ACTIONS}
