"""Runs heal after judge outages.

A run stopped by the judge — unreachable or overloaded past the client's own retries
(`JudgeUnavailable`: connection errors, timeouts, 429, 5xx), or refusing every request
(`JudgeConfigError`: 401, 403, 404, 405, 407, an unusable URL) — is not failed: it moves
`judging → waiting` with its stored items kept and a `next_try_at`. The maintenance pass (the
reaper) puts it back in the queue once that time has passed (`waiting → queued`, a new attempt),
and the restarted job judges only the items still missing. Misconfiguration heals too, with the
same backoff: a maintainer who fixes a key or a model name should not have to re-queue every run.

Delays grow from JUDGE_OUTAGE_FIRST_DELAY_SECONDS, doubling up to JUDGE_OUTAGE_MAX_DELAY_SECONDS,
each spread by −20 %…+20 % (never past the cap) so runs that failed together come back apart.
A spell lasts at most JUDGE_OUTAGE_RETRY_HOURS from the run's first wait; a failure after that
fails the run for good (`failure_kind = service`, re-queueable by hand, which starts a new spell).
Only a failure the submitter caused (`failure_kind = input`) ends a run without any retry.
"""

import logging
import random
from datetime import datetime, timedelta

from app.config import Settings
from app.db.base import utcnow
from app.judge.errors import JudgeConfigError, JudgeUnavailable
from app.repositories import runs as runs_repo
from app.runs import FailureKind, RunStatus
from app.runtime import Runtime
from app.unit_of_work import transaction

log = logging.getLogger(__name__)

JITTER = 0.2  # each delay is spread by ±20 %
_MAX_DOUBLINGS = 60  # 2**60 × any sane first delay is past any cap: no float overflow


def outage_delay(wait: int, *, first: float, cap: float, jitter: float) -> float:
    """Seconds a run waits before its try after the `wait`-th outage failure (1-based):
    first · 2^(wait−1), capped, spread by (1 ± JITTER) with `jitter` drawn from [0, 1)."""
    if wait < 1:
        raise ValueError("the first wait is wait 1")
    base = min(cap, first * 2 ** min(wait - 1, _MAX_DOUBLINGS))
    return min(cap, base * (1 - JITTER + 2 * JITTER * jitter))


def next_try_at(
    now: datetime, spell_started: datetime, wait: int, settings: Settings, jitter: float
) -> datetime | None:
    """When a run that just failed its `wait`-th time in a spell that began at `spell_started`
    is tried again, or None when the spell has used up JUDGE_OUTAGE_RETRY_HOURS (never past it:
    the last try falls on the bound itself)."""
    deadline = spell_started + timedelta(hours=settings.judge_outage_retry_hours)
    if now >= deadline:
        return None
    delay = outage_delay(
        wait,
        first=settings.judge_outage_first_delay_seconds,
        cap=settings.judge_outage_max_delay_seconds,
        jitter=jitter,
    )
    return min(now + timedelta(seconds=delay), deadline)


def judge_failure_reason(exc: JudgeUnavailable | JudgeConfigError) -> str:
    """What a submitter may read about a judge failure. Never the judge's own words: a server
    may echo the request, and the request holds the hidden reference answer."""
    if isinstance(exc, JudgeConfigError):
        return (
            f"the judge rejected the request (HTTP {exc.status_code}); the judge configuration "
            "needs a maintainer"
        )
    return f"the judge was unavailable ({exc.kind}, {exc.attempts} attempts)"


def final_failure_message(reason: str, settings: Settings) -> str:
    """The error of a run whose spell ran out (or that may not wait: a zero bound)."""
    if settings.judge_outage_retry_hours <= 0:
        return f"{reason}; re-queue the submission to try again"
    return (
        f"{reason}; gave up after waiting {settings.judge_outage_retry_hours:g} h for the judge "
        "— re-queue the submission to try again"
    )


async def wait_for_judge(
    runtime: Runtime,
    run_id: int,
    attempt: int,
    exc: JudgeUnavailable | JudgeConfigError,
    *,
    jitter: float | None = None,
) -> RunStatus | None:
    """judging → waiting with the next try scheduled, or judging → failed once the spell is
    over. Fenced by attempt and status like every transition: None when this job no longer
    holds the run."""
    settings = runtime.settings
    reason = judge_failure_reason(exc)
    async with transaction(runtime.sessions) as session:
        run = await runs_repo.get(session, run_id)
        if run is None or run.attempt != attempt or run.status != RunStatus.JUDGING:
            return None
        now = utcnow()
        spell_started = run.outage_started_at or now
        wait = run.outage_waits + 1
        when = next_try_at(
            now, spell_started, wait, settings, random.random() if jitter is None else jitter
        )
        if when is None:
            moved = await runs_repo.transition(
                session,
                run_id,
                RunStatus.JUDGING,
                RunStatus.FAILED,
                attempt=attempt,
                error=final_failure_message(reason, settings),
                failure_kind=FailureKind.SERVICE,
                finished_at=now,
                next_try_at=None,
            )
            return RunStatus.FAILED if moved else None
        moved = await runs_repo.transition(
            session,
            run_id,
            RunStatus.JUDGING,
            RunStatus.WAITING,
            attempt=attempt,
            error=reason,
            failure_kind=None,
            outage_started_at=spell_started,
            outage_waits=wait,
            next_try_at=when,
        )
    if moved:
        log.warning("run %s waits for the judge (%s); next try at %s", run_id, reason, when)
    return RunStatus.WAITING if moved else None
