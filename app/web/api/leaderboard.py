"""The leaderboard as JSON."""

from fastapi import APIRouter

from app.db.base import utcnow
from app.services.leaderboard import LeaderboardRow, build_leaderboard
from app.web.api.schemas import Leaderboard, LeaderboardEntry, TrackEntry
from app.web.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])


def entry_payload(row: LeaderboardRow) -> LeaderboardEntry:
    return LeaderboardEntry(
        rank=row.rank,
        model=row.model,
        organisation=row.organisation,
        open_weights=row.open_weights,
        medical=row.medical,
        category=row.category,
        kind=row.kind,
        source=row.source,
        mean=row.mean,
        tracks={
            track.value: TrackEntry(
                score=cell.score,
                f1=cell.f1,
                ci_low=cell.ci_low,
                ci_high=cell.ci_high,
                coverage=cell.coverage,
                judge_errors=cell.judge_errors,
                submission_id=cell.submission_id,
                rubric_version=cell.rubric_version,
                judge_model=cell.judge_model,
                judge_is_reference=cell.judge_is_reference,
            )
            for track, cell in sorted(row.cells.items())
        },
    )


@router.get("/leaderboard", response_model=Leaderboard)
async def get_leaderboard(session: SessionDep) -> Leaderboard:
    rows = await build_leaderboard(session)
    return Leaderboard(entries=[entry_payload(row) for row in rows], generated_at=utcnow())
