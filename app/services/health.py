"""Readiness: the database answers, its schema is at the revision this code ships with, Redis
(the job queue) answers when REDIS_URL is set, and the bucket does when the s3 store keeps the
files. Each check is bounded in time, so a probe gets its answer even while a dependency
hangs."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from app.db.migrate import current_revision, head_revision
from app.queue import ArqQueue
from app.runtime import Runtime
from app.storage.s3 import BucketRefused, S3Store

CHECK_TIMEOUT_SECONDS = 3.0
OK = "ok"
NOT_CHECKED = "not checked: the database is unreachable"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # check name -> "ok", why it failed, or NOT_CHECKED

    @property
    def failing(self) -> list[str]:
        """The checks that ran and failed (one left unchecked is not blamed)."""
        return [name for name, outcome in self.checks.items() if outcome not in (OK, NOT_CHECKED)]

    @property
    def ready(self) -> bool:
        return not self.failing


def _failure(exc: BaseException) -> str:
    # The exception's type only: its text may name hosts and users, and the probe is public.
    if isinstance(exc, BucketRefused):
        # The status alone says what to fix (404: no such bucket; 403: refused credentials)
        # and, unlike the server's message, names no host or account.
        return f"refused (HTTP {exc.status})"
    return "timed out" if isinstance(exc, TimeoutError) else f"unreachable ({type(exc).__name__})"


async def _schema(runtime: Runtime) -> dict[str, str]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), runtime.engine.connect() as connection:
            revision = await connection.run_sync(current_revision)
    except Exception as exc:
        return {"database": _failure(exc), "migrations": NOT_CHECKED}
    head = head_revision()
    migrations = OK if revision == head else f"at {revision or 'no revision'}, expected {head}"
    return {"database": OK, "migrations": migrations}


async def _answers(name: str, probe: Awaitable[object]) -> dict[str, str]:
    """{name: "ok"}, or why `probe` failed or took longer than CHECK_TIMEOUT_SECONDS."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe
    except Exception as exc:
        return {name: _failure(exc)}
    return {name: OK}


async def readiness(runtime: Runtime) -> Readiness:
    """Every check at once: a probe's answer takes at most one CHECK_TIMEOUT_SECONDS however
    many dependencies hang (deploy/k8s gives the probe more than that)."""
    checks = [_schema(runtime)]
    if isinstance(runtime.queue, ArqQueue):
        checks.append(_answers("redis", runtime.queue.redis.ping()))
    if isinstance(runtime.store, S3Store):
        checks.append(_answers("bucket", runtime.store.check_bucket()))
    outcomes: dict[str, str] = {}
    for outcome in await asyncio.gather(*checks):
        outcomes.update(outcome)
    return Readiness(outcomes)
