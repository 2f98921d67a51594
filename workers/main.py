"""arq worker: `arq workers.main.WorkerSettings` or `mmrare worker`. Jobs are thin: they call
app.services with the process's runtime."""

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings

from app.config import get_settings
from app.queue import JUDGE_RUN_JOB, WORKER_MAX_JOBS, ArqQueue
from app.runtime import Runtime
from app.services.configuration import ensure_track_configuration
from app.services.judge_health import publish_forever, publish_once
from app.services.judging import execute_job
from app.services.maintenance import beat_seconds, maintenance_pass
from app.unit_of_work import transaction
from workers.metrics_server import start_metrics_server

log = logging.getLogger("mmrare.worker")

# A run is long (thousands of judge calls); the heartbeat, not this timeout, detects dead workers.
RUN_JOB_TIMEOUT_SECONDS = 6 * 3600
MAINTENANCE_LOCK = "mmrare:maintenance-lock"
WORKER_POLL_SECONDS = 0.1


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    keys = settings.resolve_keys()  # a refused SECRET_KEY stops start-up here
    runtime = await Runtime.start(settings, keys, ArqQueue(ctx["redis"]))
    ctx["runtime"] = runtime
    async with transaction(runtime.sessions) as session:
        await ensure_track_configuration(session, settings)
    await maintenance_pass(runtime)
    ctx["health_publisher"] = asyncio.create_task(publish_forever(runtime))
    port = ctx.get("metrics_port")  # `mmrare worker --metrics-port`
    if port is not None:
        ctx["metrics_server"] = await start_metrics_server(runtime, ctx["metrics_host"], port)
        log.info("worker metrics on http://%s:%s/metrics", ctx["metrics_host"], port)


async def shutdown(ctx: dict[str, Any]) -> None:
    publisher: asyncio.Task[None] | None = ctx.get("health_publisher")
    if publisher is not None:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
    server = ctx.get("metrics_server")
    if server is not None:
        server.close()
        await server.wait_closed()
    runtime: Runtime | None = ctx.get("runtime")
    if runtime is not None:
        await publish_once(runtime)  # the last attempts this worker saw
        await runtime.close()


async def judge_run(ctx: dict[str, Any], run_id: int, attempt: int) -> str | None:
    status = await execute_job(ctx["runtime"], run_id, attempt)
    return status.value if status else None


async def maintain(ctx: dict[str, Any]) -> int | None:
    """One maintenance pass per REAPER_INTERVAL_SECONDS across every worker: the cron beat may
    fire more often (see beat_seconds), and a Redis lock that lives one interval lets a single
    beat through. Returns the runs re-enqueued, or None when another beat already ran."""
    runtime: Runtime = ctx["runtime"]
    interval_ms = runtime.settings.reaper_interval_seconds * 1000
    # A little under one interval, so the beat exactly one interval later is never refused.
    if not await ctx["redis"].set(MAINTENANCE_LOCK, "1", nx=True, px=max(interval_ms - 250, 1)):
        return None
    report = await maintenance_pass(runtime)
    return report.requeued


_settings = get_settings()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        func(judge_run, name=JUDGE_RUN_JOB, timeout=RUN_JOB_TIMEOUT_SECONDS, max_tries=3)
    ]
    cron_jobs: ClassVar[list[Any]] = [
        cron(
            maintain,
            unique=True,
            run_at_startup=False,
            second=beat_seconds(_settings.reaper_interval_seconds),
        )
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(_settings.redis_url or "redis://127.0.0.1:6379/0")
    max_jobs = WORKER_MAX_JOBS
    # arq looks for new jobs every poll_delay (default 0.5 s): that wait comes before every
    # run's first judge call. A Redis poll every 0.1 s costs an idle worker about 1% of a core.
    poll_delay = WORKER_POLL_SECONDS
    keep_result = 60
    health_check_interval = 10
