"""The state a metrics scrape reports: read from the database and the queue, never cached, so
every process (API worker or arq worker) answers the same."""

from app.db.models import SubmissionState
from app.judge.limit import RedisLimiter
from app.observability.metrics import StateSnapshot
from app.repositories import metrics as metrics_repo
from app.runs import RunStatus
from app.runtime import Runtime
from app.unit_of_work import transaction


async def state_snapshot(runtime: Runtime) -> StateSnapshot:
    async with transaction(runtime.sessions) as session:
        submissions = await metrics_repo.submissions_by_state(session)
        runs = await metrics_repo.runs_by_status(session)
    return StateSnapshot(
        # Every state and status appears, zero included, so a dashboard never sees a gap.
        submissions_by_state={
            state.value: submissions.get(state.value, 0) for state in SubmissionState
        },
        runs_by_status={status.value: runs.get(status.value, 0) for status in RunStatus},
        queue_depth=await runtime.queue.depth(),
        judge_limit=await _judge_limit(runtime),
    )


async def _judge_limit(runtime: Runtime) -> tuple[int, int] | None:
    limiter = runtime.judge_client.limiter
    if not isinstance(limiter, RedisLimiter):
        return None
    return limiter.permits, await limiter.in_use_everywhere()
