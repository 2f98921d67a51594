"""The upload quota: per team and track, SUBMISSIONS_PER_DAY accepted submissions in any
rolling 24 hours.

What counts (docs/submissions.md): every accepted submission created in the window, whatever
its outcome, except one whose latest run of its own failed on the service's side
(failure_kind = service) or was cancelled before judging started. Rejected files never count;
admin tokens are exempt. Callers check under the team's upload lock (see
`accounts_repo.lock_team_uploads`), so two concurrent uploads cannot both take the last slot.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import EvaluationRun
from app.errors import QuotaExceeded
from app.repositories import submissions as submissions_repo
from app.runs import FailureKind, RunStatus
from app.services.accounts import Principal
from app.tracks import Track

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TrackQuota:
    track: Track
    used: int
    limit: int
    # When the oldest counted submission leaves the window and frees its slot (None: none used).
    next_slot_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Quota:
    team: str
    exempt: bool  # admin tokens are not limited
    limit: int
    tracks: dict[Track, TrackQuota]


def run_counts(run: EvaluationRun | None) -> bool:
    """Whether a submission whose latest own run is `run` uses up a slot (the window aside)."""
    if run is None:
        return True
    if run.status == RunStatus.FAILED and run.failure_kind == FailureKind.SERVICE:
        return False
    return not (run.status == RunStatus.CANCELLED and run.started_at is None)


async def team_quota(
    session: AsyncSession, principal: Principal, limit: int, *, now: datetime | None = None
) -> Quota:
    now = now or utcnow()
    counted = await submissions_repo.counted_since(session, principal.team_id, now - WINDOW)
    by_track: dict[Track, list[datetime]] = {track: [] for track in Track}
    for track, created_at, _ in counted:
        by_track[Track(track)].append(created_at)
    tracks = {
        track: TrackQuota(
            track=track,
            used=len(times),
            limit=limit,
            next_slot_at=(min(times) + WINDOW) if times else None,
        )
        for track, times in by_track.items()
    }
    return Quota(principal.team_name, principal.is_admin, limit, tracks)


async def check_quota(
    session: AsyncSession,
    principal: Principal,
    tracks: Iterable[Track],
    limit: int,
    *,
    now: datetime | None = None,
) -> None:
    """Raise QuotaExceeded unless each of `tracks` has a free slot for one more submission.
    Call it under the team's upload lock, right before inserting."""
    if principal.is_admin:
        return
    now = now or utcnow()
    quota = await team_quota(session, principal, limit, now=now)
    full = [quota.tracks[track] for track in tracks if quota.tracks[track].remaining <= 0]
    if not full:
        return
    # The upload needs every one of these tracks: it may go ahead once the last of them frees.
    opens = max(q.next_slot_at or now for q in full)
    retry_after = max(1, math.ceil((opens - now).total_seconds()))
    names = ", ".join(q.track.value for q in full)
    raise QuotaExceeded(
        f"team {principal.team_name!r} has used its {limit} submissions for {names} in the "
        f"last 24 hours; the next slot opens at {opens:%Y-%m-%d %H:%M:%S} UTC "
        f"(in {_duration(retry_after)}). Failed-by-the-service and cancelled-before-judging "
        "submissions do not count; see GET /api/v1/quota",
        retry_after=retry_after,
    )


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
