"""arq worker: `arq workers.main.WorkerSettings` or `mmrare worker`. Jobs are thin: they call
app.services with the process's runtime."""

import logging
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings

from app.config import get_settings
from app.queue import JUDGE_RUN_JOB, WORKER_MAX_JOBS, ArqQueue
from app.runtime import Runtime
from app.services.judging import execute_job
from app.services.reaper import reap
from app.services.rejudge import tick

log = logging.getLogger("mmrare.worker")

# A run is long (thousands of judge calls); the heartbeat, not this timeout, detects dead workers.
RUN_JOB_TIMEOUT_SECONDS = 6 * 3600


async def startup(ctx: dict[str, Any]) -> None:
    runtime = await Runtime.start(get_settings())
    ctx["runtime"] = runtime
    ctx["queue"] = ArqQueue(ctx["redis"])
    await reap_runs(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime: Runtime | None = ctx.get("runtime")
    if runtime is not None:
        await runtime.close()


async def judge_run(ctx: dict[str, Any], run_id: int, attempt: int) -> str | None:
    status = await execute_job(ctx["runtime"].judging, ctx["queue"], run_id, attempt)
    return status.value if status else None


async def reap_runs(ctx: dict[str, Any]) -> int:
    """Re-enqueue lost runs, then advance rejudges (a rejudge whose last run finished while no
    job could follow it up switches here)."""
    runtime: Runtime = ctx["runtime"]
    report = await reap(runtime.sessions, ctx["queue"], runtime.settings)
    try:
        await tick(runtime.sessions, ctx["queue"], runtime.settings)
    except Exception:
        log.exception("rejudge tick failed")
    return len(report.requeued)


def _reaper_schedule(interval: int) -> dict[str, Any]:
    if interval < 60:
        return {"second": set(range(0, 60, interval))}
    return {"minute": set(range(0, 60, max(interval // 60, 1))), "second": {0}}


_settings = get_settings()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        func(judge_run, name=JUDGE_RUN_JOB, timeout=RUN_JOB_TIMEOUT_SECONDS, max_tries=3)
    ]
    cron_jobs: ClassVar[list[Any]] = [
        cron(
            reap_runs,
            unique=True,
            run_at_startup=False,
            **_reaper_schedule(_settings.reaper_interval_seconds),
        )
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(_settings.redis_url or "redis://127.0.0.1:6379/0")
    max_jobs = WORKER_MAX_JOBS
    keep_result = 60
    health_check_interval = 10
