"""`mmrare_queue_depth` counts judge runs waiting to start, against a real arq worker on Redis.

arq keeps a running job in its queue until the job returns, so a submission can already be
scored in the database while its job is still in the queue's sorted set. The metric must not
count that job as waiting.
"""

from __future__ import annotations

import asyncio

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker, func

from app.queue import JUDGE_RUN_JOB, ArqQueue
from tests.support import wait_for

pytestmark = pytest.mark.integration


async def test_a_running_job_is_not_waiting(redis_clean: str) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def held_run(ctx: dict[str, object], run_id: int, attempt: int) -> None:
        started.set()
        await release.wait()

    redis: ArqRedis = await create_pool(RedisSettings.from_dsn(redis_clean))
    queue = ArqQueue(redis)
    worker = Worker(
        functions=[func(held_run, name=JUDGE_RUN_JOB)],
        redis_pool=redis,
        max_jobs=1,
        poll_delay=0.05,
        handle_signals=False,
    )
    worker_task: asyncio.Task[None] | None = None
    try:
        assert await queue.depth() == 0
        # arq adds the workers' maintenance cron ahead of its beat: it is no run waiting.
        await redis.enqueue_job("maintain", _job_id="cron:maintain:1", _defer_by=60)
        assert await queue.depth() == 0
        await queue.enqueue_run(1, 1)
        await queue.enqueue_run(2, 1)
        assert await queue.depth() == 2

        worker_task = asyncio.create_task(worker.async_run())
        await asyncio.wait_for(started.wait(), timeout=10)
        # One job runs (still in arq's sorted set), the other waits for the single slot.
        assert await redis.zcard("arq:queue") == 3
        assert await queue.depth() == 1

        release.set()

        async def drained() -> bool:
            return await queue.depth() == 0 and await redis.zcard("arq:queue") == 1

        await wait_for(drained, timeout=10, message="both jobs finished")
    finally:
        release.set()
        await worker.close()
        if worker_task is not None:
            worker_task.cancel()
            await asyncio.gather(worker_task, return_exceptions=True)
        await redis.aclose()
