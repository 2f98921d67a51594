"""The maintenance pass: reap lost runs, then advance rejudges. The API process (in-process
mode) and every arq worker run this one function on the REAPER_INTERVAL_SECONDS beat."""

import logging
import math
from dataclasses import dataclass

from app.runtime import Runtime
from app.services.reaper import reap
from app.services.rejudge import tick

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaintenanceReport:
    requeued: int  # runs handed to a new job
    rejudge_jobs: int  # runs a rejudge enqueued
    failed: tuple[str, ...]  # steps that raised (logged with their traceback)


async def maintenance_pass(runtime: Runtime, *, orphaned: bool = False) -> MaintenanceReport:
    """Reap, then tick. A failing step is logged and does not stop the other: a rejudge whose
    last run just finished still switches while the reaper cannot reach Redis, and vice versa."""
    failed: list[str] = []
    requeued = rejudge_jobs = 0
    try:
        requeued = len((await reap(runtime, orphaned=orphaned)).requeued)
    except Exception:
        log.exception("maintenance: reaping runs failed")
        failed.append("reap")
    try:
        rejudge_jobs = len(await tick(runtime))
    except Exception:
        log.exception("maintenance: advancing rejudges failed")
        failed.append("rejudge tick")
    return MaintenanceReport(requeued, rejudge_jobs, tuple(failed))


def beat_seconds(interval: int) -> set[int]:
    """The seconds of each minute at which a cron beat fires so that a pass can start exactly
    every `interval` seconds: every gcd(interval, 60) seconds. A lock that lives `interval`
    seconds (see workers.main) lets only the beats one interval apart through."""
    if interval < 1:
        raise ValueError("the maintenance interval must be at least one second")
    step = math.gcd(interval, 60)
    return set(range(0, 60, step))
