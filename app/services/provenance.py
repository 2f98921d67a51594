"""A scored run's evaluation card: what it was judged with, from what is stored on the run.

Everything comes from the run and the rows it names (rubric version, judge model, gold version),
never from today's settings: the sampling settings and the software version are written on the
run when judging starts (`judging_record`). The card never carries the judge's address, its API
key, or anything of the gold beyond its version's id and digest.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import GoldVersion
from app.errors import Conflict, NotFound
from app.repositories import gold as gold_repo
from app.repositories import judging as judging_repo
from app.repositories import runs as runs_repo
from app.runs import RunStatus
from app.services.accounts import Principal
from app.services.configuration import load_rubric
from app.services.status import visible_submission
from app.tracks import Track

PACKAGE = "mmrarebench-leaderboard"
# What render_request sends (tests/unit/test_provenance.py keeps the two in step).
JUDGE_TEMPERATURE = 0


def software_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def recorded_sampling(settings: Settings) -> dict[str, Any]:
    """The sampling settings every judge request of a run is sent with."""
    return {
        "temperature": JUDGE_TEMPERATURE,
        "seed": settings.judge_seed,
        "max_tokens": settings.judge_max_tokens,
    }


def judging_record(settings: Settings) -> dict[str, Any]:
    """Run columns written when judging starts, so an old run's card never reads new settings."""
    return {"judge_sampling": recorded_sampling(settings), "software_version": software_version()}


def prompt_template_digest(system: str, user: str) -> str:
    """sha256 of the rubric's system and user prompt templates (unfilled), NUL-separated."""
    return hashlib.sha256(f"{system}\0{user}".encode()).hexdigest()


@dataclass(frozen=True)
class Provenance:
    run_id: int
    submission_id: int
    track: Track
    judge_model: str
    judge_is_reference: bool
    rubric_version: str  # sha256 of the rubric file
    prompt_template_sha256: str
    sampling: dict[str, Any] | None  # None: judged before runs recorded it
    gold_version: GoldVersion  # the card shows its id, digest and import time only
    software_version: str | None  # None: judged before runs recorded it
    started_at: datetime | None
    judged_at: datetime | None  # when the run was scored


async def run_provenance(
    session: AsyncSession,
    run_id: int,
    principal: Principal | None,
    *,
    key: str | None = None,
    secret: bytes,
) -> Provenance:
    """The card of a scored run whose submission the caller may see (else NotFound)."""
    run = await runs_repo.get(session, run_id)
    if run is None:
        raise NotFound(f"run {run_id} was not found")
    try:
        submission = await visible_submission(
            session, run.submission_id, principal, key=key, secret=secret
        )
    except NotFound:
        raise NotFound(
            f"run {run_id} was not found. A private submission's runs are visible only to its "
            "team: send the team's token or add the status link's key= parameter"
        ) from None
    if run.status != RunStatus.SCORED:
        raise Conflict(
            f"run {run_id} is {run.status}: its evaluation card exists once it is scored"
        )
    judge = await judging_repo.get_judge_model(session, run.judge_model_id)
    gold = await gold_repo.get_version(session, submission.gold_version_id)
    assert judge is not None and gold is not None  # foreign keys
    rubric = await load_rubric(session, run.rubric_version)
    return Provenance(
        run_id=run.id,
        submission_id=submission.id,
        track=Track(submission.track),
        judge_model=judge.name,
        judge_is_reference=judge.is_reference,
        rubric_version=run.rubric_version,
        prompt_template_sha256=prompt_template_digest(rubric.prompt.system, rubric.prompt.user),
        sampling=dict(run.judge_sampling) if run.judge_sampling is not None else None,
        gold_version=gold,
        software_version=run.software_version,
        started_at=run.started_at,
        judged_at=run.finished_at,
    )
