"""The FastAPI application: API routers, HTML pages, and the process's long-lived parts."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq import create_pool
from arq.connections import RedisSettings
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.config import Settings, get_settings
from app.queue import ArqQueue, InProcessQueue, JobQueue
from app.resources import resource_path
from app.runtime import Runtime
from app.services.configuration import ensure_track_configuration
from app.services.judging import execute_job
from app.services.maintenance import maintenance_pass
from app.services.reaper import reap
from app.unit_of_work import transaction
from app.web.api import admin as admin_api
from app.web.api import analysis as analysis_api
from app.web.api import health as health_api
from app.web.api import inputs as inputs_api
from app.web.api import leaderboard as leaderboard_api
from app.web.api import models as models_api
from app.web.api import provenance as provenance_api
from app.web.api import submissions as submissions_api
from app.web.docs import SWAGGER_UI_DIR, SWAGGER_UI_URL
from app.web.docs import router as docs_router
from app.web.errors import install_error_handlers
from app.web.metrics import router as metrics_router
from app.web.middleware import BodyReadTimeout, SecurityHeaders
from app.web.pages import about as about_pages
from app.web.pages import admin as admin_pages
from app.web.pages import analysis as analysis_pages
from app.web.pages import leaderboard as leaderboard_pages
from app.web.pages import models as models_pages
from app.web.pages import submissions as submissions_pages

log = logging.getLogger(__name__)


PICKUP_SECONDS = 1.0
"""In-process mode: how soon runs a command queued (a rejudge, a re-queue) are picked up. A
command cannot reach this process's queue; the full maintenance pass runs far less often."""


async def _maintain_forever(runtime: Runtime) -> None:
    loop = asyncio.get_running_loop()
    next_pass = loop.time() + runtime.settings.reaper_interval_seconds
    while True:
        await asyncio.sleep(PICKUP_SECONDS)
        if loop.time() >= next_pass:
            next_pass = loop.time() + runtime.settings.reaper_interval_seconds
            await maintenance_pass(runtime)
            continue
        try:
            await reap(runtime, queued_only=True)
        except Exception:  # the full pass retries; this loop must not die
            log.exception("picking up queued runs failed")


def create_app(settings: Settings | None = None, job_queue: JobQueue | None = None) -> FastAPI:
    """The service. `job_queue`, when given, takes every run instead of arq or the in-process
    runner, and nothing in this process picks runs up behind it (tests record jobs so)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = settings.resolve_keys()  # a refused SECRET_KEY stops start-up here
        runtime: Runtime
        queue: JobQueue
        inprocess: InProcessQueue | None = None
        if job_queue is not None:
            queue = job_queue
        elif settings.uses_arq:
            queue = ArqQueue(await create_pool(RedisSettings.from_dsn(settings.redis_url or "")))
        else:
            inprocess = InProcessQueue(
                lambda run_id, attempt: execute_job(runtime, run_id, attempt),
                settings.inprocess_max_runs,
            )
            queue = inprocess
        runtime = await Runtime.start(settings, keys, queue)
        reaper: asyncio.Task[None] | None = None
        try:
            async with transaction(runtime.sessions) as session:
                await ensure_track_configuration(session, settings)
            if inprocess is not None:
                # No job of an earlier process can survive it: pick its runs up at once.
                await maintenance_pass(runtime, orphaned=True)
                reaper = asyncio.create_task(_maintain_forever(runtime))
            app.state.runtime = runtime
            yield
        finally:
            if reaper is not None:
                reaper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reaper
            if isinstance(queue, InProcessQueue):
                await queue.close()
            if isinstance(queue, ArqQueue):
                await queue.redis.aclose()
            await runtime.close()

    app = FastAPI(
        title="MMRareBench leaderboard",
        version="1",
        summary="Upload predictions for the four MMRareBench tracks; browse judged leaderboards.",
        lifespan=lifespan,
        docs_url=None,  # served by app.web.docs from local files
        redoc_url=None,
    )
    install_error_handlers(app)
    # The last added runs first: every response, the 408 included, gets the headers.
    app.add_middleware(BodyReadTimeout, seconds=settings.request_body_timeout_seconds)
    app.add_middleware(SecurityHeaders)
    for router in (
        health_api.router,
        submissions_api.router,
        models_api.router,
        leaderboard_api.router,
        analysis_api.router,
        provenance_api.router,
        inputs_api.router,
        admin_api.router,
        leaderboard_pages.router,
        analysis_pages.router,
        models_pages.router,
        submissions_pages.router,
        admin_pages.router,
        docs_router,
        metrics_router,
        about_pages.router,
    ):
        app.include_router(router)
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=resource_path("static")), name="static")
    return app
