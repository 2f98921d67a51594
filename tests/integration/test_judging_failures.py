"""How a run ends when the judge misbehaves: judge errors are never scores, a dead judge fails
the run as the service's fault, and a re-queued run retries only what is missing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.base import utcnow
from app.db.models import EvaluationRun, ItemResult, Model, Submission
from app.db.session import create_engine, create_session_factory
from app.demo.run import demo_dir
from app.repositories import gold as gold_repo
from app.runs import FailureKind, RunStatus
from app.runtime import Runtime
from app.services.configuration import active_pair
from app.services.judging import execute_run
from app.services.reaper import ReapReport, reap, requeue
from app.standin.knobs import StandinKnobs
from app.tracks import Track
from app.unit_of_work import transaction
from tests.integration.helpers import demo_runtime
from tests.support import StandinThread, free_port, wait_for

pytestmark = pytest.mark.integration

T2_PREDICTIONS = demo_dir() / "predictions" / "T2.jsonl"


@pytest.fixture
def standin() -> Iterator[StandinThread]:
    with StandinThread() as server:
        yield server


def control(standin: StandinThread, **changes: Any) -> None:
    response = httpx.post(f"{standin.root_url}/_standin/control", json=changes)
    response.raise_for_status()


def requests_seen(standin: StandinThread) -> int:
    return int(httpx.get(f"{standin.root_url}/_standin/stats").json()["requests"])


@pytest.fixture
async def sessions(pg_clean: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_clean)
    yield create_session_factory(engine)
    await engine.dispose()


async def _context(
    sessions: async_sessionmaker[AsyncSession],
    standin: StandinThread,
    tmp_path: Path,
    **overrides: Any,
) -> Runtime:
    settings = Settings(
        database_url="unused://",
        storage_dir=tmp_path / "uploads",
        secret_key="test-secret",
        judge_base_url=standin.base_url,
        judge_max_transport_retries=1,
        judge_max_parse_retries=1,
        judge_backoff_base_seconds=0.01,
        judge_backoff_cap_seconds=0.02,
        judge_timeout_seconds=5,
        judge_concurrency=1,  # one call at a time, so scripted faults hit a known item
        **overrides,
    )
    return await demo_runtime(sessions, settings)


async def _queued_t2_run(ctx: Runtime) -> int:
    data = T2_PREDICTIONS.read_bytes()
    async with transaction(ctx.sessions) as session:
        digest = await ctx.store.put(session, data)
        gold = await gold_repo.current_version(session)
        assert gold is not None
        model = Model(name="judge-failure-model")
        session.add(model)
        await session.flush()
        submission = Submission(
            model_id=model.id,
            track=Track.T2.value,
            gold_version_id=gold.id,
            file_sha256=digest,
            filename="T2.jsonl",
            size_bytes=len(data),
            uploaded_by="test",
            answered=9,
            total_items=10,
        )
        session.add(submission)
        await session.flush()
        pair = await active_pair(session, Track.T2)
        run = EvaluationRun(
            submission_id=submission.id,
            rubric_version=pair.rubric_version,
            judge_model_id=pair.judge_model_id,
            items_total=10,
        )
        session.add(run)
        await session.flush()
        return run.id


async def _run(sessions: async_sessionmaker[AsyncSession], run_id: int) -> EvaluationRun:
    async with sessions() as session:
        run = await session.get(EvaluationRun, run_id)
        assert run is not None
        return run


async def _results(sessions: async_sessionmaker[AsyncSession], run_id: int) -> list[ItemResult]:
    async with sessions() as session:
        rows = await session.scalars(select(ItemResult).where(ItemResult.run_id == run_id))
        return list(rows)


async def test_malformed_replies_are_judge_errors_and_fail_the_run(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path)
    run_id = await _queued_t2_run(ctx)
    control(standin, malformed_rate=1.0)

    assert await execute_run(ctx, run_id, 1) == RunStatus.FAILED

    run = await _run(sessions, run_id)
    assert run.failure_kind == FailureKind.SERVICE.value
    assert run.error is not None and "9 of 10 items had judge errors" in run.error
    results = await _results(sessions, run_id)
    errors = [r for r in results if r.error is not None]
    assert len(errors) == 9  # every answered item; the unanswered one scored 0 without a call
    assert all(r.item_score is None and r.raw_reply for r in errors)  # never a silent 0
    await ctx.judge_client.aclose()


async def test_requeued_run_retries_only_the_items_that_failed(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path)
    run_id = await _queued_t2_run(ctx)
    # One call at a time: eight items are judged, the ninth gets a malformed reply on its try
    # and on its one retry, and becomes a judge error.
    control(standin, script=["ok"] * 8 + ["malformed"] * 2 + ["ok"] * 100)
    assert await execute_run(ctx, run_id, 1) == RunStatus.FAILED  # 1 of 10 > 2 % tolerance
    assert len([r for r in await _results(sessions, run_id) if r.error]) == 1
    calls_first = requests_seen(standin)

    async with transaction(sessions) as session:
        attempt = await requeue(session, run_id, RunStatus.FAILED)
    assert attempt == 2
    assert await execute_run(ctx, run_id, attempt) == RunStatus.SCORED

    assert requests_seen(standin) == calls_first + 1  # only the failed item was judged again
    results = await _results(sessions, run_id)
    assert len(results) == 10 and all(r.error is None for r in results)
    await ctx.judge_client.aclose()


async def test_a_judge_that_is_down_makes_the_run_wait_and_the_reaper_heals_it(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(
        sessions, standin, tmp_path, judge_outage_first_delay_seconds=0.05, run_batch_size=1
    )
    run_id = await _queued_t2_run(ctx)
    # Four items are judged (and stored one by one), then the judge answers 503 to everything.
    control(standin, script=["ok"] * 4 + ["503"] * 100)

    assert await execute_run(ctx, run_id, 1) == RunStatus.WAITING

    run = await _run(sessions, run_id)
    assert run.error == "the judge was unavailable (HTTP 503, 2 attempts)"
    assert run.failure_kind is None and run.outage_waits == 1
    assert run.next_try_at is not None and run.outage_started_at is not None
    assert run.next_try_at > run.outage_started_at
    kept = {r.item_id for r in await _results(sessions, run_id) if r.error is None}
    assert len(kept) == 5  # four judged plus the unanswered one, kept for the next try

    control(standin, script=[])  # the judge is back
    await wait_for(
        lambda: _reaped(ctx), 10, message="the reaper to wake the run once its next try is due"
    )
    assert ctx.queue.jobs == [(run_id, 2)]  # type: ignore[attr-defined]
    woken = await _run(sessions, run_id)
    assert woken.status == RunStatus.QUEUED and woken.next_try_at is None
    assert woken.outage_waits == 1  # still the same spell
    calls_before = requests_seen(standin)

    assert await execute_run(ctx, run_id, 2) == RunStatus.SCORED
    assert requests_seen(standin) == calls_before + 5  # only the five items still missing
    await ctx.judge_client.aclose()


async def _reaped(ctx: Runtime) -> bool:
    return bool((await reap(ctx)).requeued)


async def test_a_misconfigured_judge_makes_the_run_wait_too(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path)
    run_id = await _queued_t2_run(ctx)
    control(standin, script=["401"] * 100)

    assert await execute_run(ctx, run_id, 1) == RunStatus.WAITING

    run = await _run(sessions, run_id)
    assert run.error == (
        "the judge rejected the request (HTTP 401); the judge configuration needs a maintainer"
    )
    assert await reap(ctx) == ReapReport([])  # its next try is seconds away
    await ctx.judge_client.aclose()


async def test_without_an_outage_budget_a_judge_that_is_down_fails_the_run(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path, judge_outage_retry_hours=0)
    run_id = await _queued_t2_run(ctx)
    control(standin, **{**asdict(StandinKnobs()), "script": ["503"] * 100})

    assert await execute_run(ctx, run_id, 1) == RunStatus.FAILED

    run = await _run(sessions, run_id)
    assert run.failure_kind == FailureKind.SERVICE.value
    assert run.error == (
        "the judge was unavailable (HTTP 503, 2 attempts); re-queue the submission to try again"
    )
    await ctx.judge_client.aclose()


async def test_a_run_whose_outage_outlasts_the_bound_fails_for_good(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path, judge_outage_retry_hours=1)
    run_id = await _queued_t2_run(ctx)
    async with transaction(sessions) as session:  # the run has waited for an hour already
        run = await session.get(EvaluationRun, run_id)
        assert run is not None
        run.outage_started_at = utcnow() - timedelta(hours=1, seconds=1)
        run.outage_waits = 12
    control(standin, script=["503"] * 100)

    assert await execute_run(ctx, run_id, 1) == RunStatus.FAILED

    run = await _run(sessions, run_id)
    assert run.failure_kind == FailureKind.SERVICE.value
    assert run.error == (
        "the judge was unavailable (HTTP 503, 2 attempts); gave up after waiting 1 h for the "
        "judge — re-queue the submission to try again"
    )
    # Re-queued by hand, it starts a new spell.
    async with transaction(sessions) as session:
        assert await requeue(session, run_id, RunStatus.FAILED) == 2
    requeued = await _run(sessions, run_id)
    assert requeued.outage_started_at is None and requeued.outage_waits == 0
    await ctx.judge_client.aclose()


async def test_a_superseded_job_does_nothing(
    sessions: async_sessionmaker[AsyncSession], standin: StandinThread, tmp_path: Path
) -> None:
    ctx = await _context(sessions, standin, tmp_path)
    run_id = await _queued_t2_run(ctx)
    assert await execute_run(ctx, run_id, attempt=7) is None  # the run is on attempt 1
    assert requests_seen(standin) == 0
    assert (await _run(sessions, run_id)).status == RunStatus.QUEUED.value
    await ctx.judge_client.aclose()


async def echo_judge(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A judge that rejects every request with a 400 quoting the request back, JSON-escaped,
    as several real servers do."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    reply = json.dumps({"error": {"message": f"invalid request: {body.decode()}"}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": reply})


async def test_a_judge_echoing_the_request_leaks_nothing_into_the_run(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(echo_judge, host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: _started(server), 10, message="the echo judge to start")
    fake = SimpleNamespace(base_url=f"http://127.0.0.1:{port}/v1")
    ctx = await _context(sessions, fake, tmp_path)  # type: ignore[arg-type]
    run_id = await _queued_t2_run(ctx)
    try:
        assert await execute_run(ctx, run_id, 1) == RunStatus.FAILED
    finally:
        server.should_exit = True
        await task
        await ctx.judge_client.aclose()
    run = await _run(sessions, run_id)
    # A 400 is about one request: every item became its own judge error, too many for the run.
    assert run.error is not None and "9 of 10 items had judge errors" in run.error
    item_errors = [r.error or "" for r in await _results(sessions, run_id) if r.error]
    assert len(item_errors) == 9 and all("(HTTP 400)" in e for e in item_errors)
    assert all(r.raw_reply is None for r in await _results(sessions, run_id) if r.error)
    async with sessions() as session:
        gold = await gold_repo.items_for_track(
            session,
            (await gold_repo.current_version(session)).id,
            Track.T2,  # type: ignore[union-attr]
        )
    for item in gold:
        for fragment in (item.answer, item.answer[:20], item.question[:20]):
            assert fragment not in run.error
            assert all(fragment not in e for e in item_errors)
    assert "127.0.0.1" not in run.error  # nor where the judge lives


async def _started(server: uvicorn.Server) -> bool:
    return server.started
