"""Judging one evaluation run: the job behind both the arq worker and the in-process queue.

The run row is the ledger. Item results stream to the database in batches — by size
(RUN_BATCH_SIZE) or by age (JUDGE_FLUSH_SECONDS), whichever comes first — each written together
with a fenced progress update (same transaction), so a cancelled run or one handed to a newer job
stops at the next batch, and a restarted job skips every item already stored.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.base import utcnow
from app.db.models import EvaluationRun, GoldItem, ItemResult
from app.formats.predictions import gunzip_limited, parse_predictions
from app.judge.errors import ItemInputError, JudgeConfigError, JudgeUnavailable
from app.judge.prompt import render_request
from app.judge.types import JudgeInput, JudgeOutcome, JudgeRequest
from app.observability.logs import bind_job
from app.repositories import gold as gold_repo
from app.repositories import judging as judging_repo
from app.repositories import runs as runs_repo
from app.repositories import submissions as submissions_repo
from app.rubrics.model import Rubric
from app.runs import FailureKind, RunStatus
from app.runtime import Runtime
from app.scoring.aggregation import (
    count_inconsistent,
    dimension_means,
    item_score,
    track_score,
)
from app.scoring.bootstrap import bootstrap_interval
from app.scoring.f1 import best_token_f1, mean_token_f1
from app.services.configuration import load_rubric
from app.services.flushing import write_in_batches
from app.services.gold_images import image_files
from app.services.judge_cache import DatabaseJudgeCache
from app.services.outage import wait_for_judge
from app.services.provenance import judging_record
from app.services.rejudge import after_run
from app.tracks import Track
from app.unit_of_work import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    run_id: int
    attempt: int
    track: Track
    rubric: Rubric
    judge_model: str
    gold: dict[str, GoldItem]
    predictions: dict[str, str]
    pending: list[str]  # gold item ids without a stored result
    image_files: dict[str, str]  # image path in the bundle -> file on this host (when sent)
    rejudge: bool = False  # a rejudge run: its judge calls take a rejudge-share slot too


class _Stopped(Exception):
    """The run was cancelled or handed to a newer job: stop quietly."""


INTERNAL_FAILURE = (
    "an internal error stopped judging; the maintainers can see it in the service log — "
    "re-queue the submission to try again"
)


async def execute_run(runtime: Runtime, run_id: int, attempt: int) -> RunStatus | None:
    """Judge every pending item of a run and finish it. Returns the final status, or None when
    this job had nothing to do (run finished, cancelled, or superseded)."""
    plan = await _claim(runtime, run_id, attempt)
    if plan is None:
        return None
    log.info("run %s attempt %s: judging", run_id, attempt)
    heartbeat = asyncio.create_task(_heartbeat(runtime, run_id, attempt))
    try:
        await _judge_pending(runtime, plan)
        return await _finish(runtime, plan)
    except _Stopped:
        log.info("run %s attempt %s stopped: cancelled or superseded", run_id, attempt)
        return None
    except (JudgeUnavailable, JudgeConfigError) as exc:
        # Not the submitter's doing: the run waits for the judge and heals (app.services.outage).
        return await wait_for_judge(runtime, run_id, attempt, exc)
    except Exception:
        # Anything else would otherwise leave the run judging, to be re-enqueued forever.
        log.exception("run %s attempt %s stopped by an internal error", run_id, attempt)
        await _fail(runtime, run_id, attempt, INTERNAL_FAILURE, FailureKind.SERVICE)
        return RunStatus.FAILED
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def execute_job(runtime: Runtime, run_id: int, attempt: int) -> RunStatus | None:
    """The job body (arq and in-process): judge the run, then let rejudges take their next step
    — a finished rejudge run frees a slot and may be its rejudge's last (the switch)."""
    bind_job(run_id=run_id)
    status = await execute_run(runtime, run_id, attempt)
    if status is not None:
        log.info("run %s attempt %s: %s", run_id, attempt, status.value)
    try:
        await after_run(runtime, run_id)
    except Exception:  # the periodic tick retries; the run itself is done
        log.exception("rejudge follow-up after run %s failed", run_id)
    return status


async def _claim(runtime: Runtime, run_id: int, attempt: int) -> _Plan | None:
    async with transaction(runtime.sessions) as session:
        run = await runs_repo.get(session, run_id)
        if run is None or run.attempt != attempt:
            return None
        bind_job(submission_id=run.submission_id)
        now = utcnow()
        if run.status == RunStatus.QUEUED:
            claimed = await runs_repo.transition(
                session,
                run_id,
                RunStatus.QUEUED,
                RunStatus.JUDGING,
                attempt=attempt,
                started_at=now,
                heartbeat_at=now,
                error=None,
                failure_kind=None,
                **judging_record(runtime.settings),  # the evaluation card's settings, as sent
            )
            if not claimed:
                return None
        elif run.status != RunStatus.JUDGING:
            return None
        try:
            return await _plan(runtime, session, run)
        except ValueError as exc:
            # The stored file no longer parses (e.g. limits tightened since upload).
            error, kind = f"cannot judge this submission: {exc}", FailureKind.INPUT
        except Exception:
            log.exception("run %s attempt %s could not be planned", run_id, attempt)
            error, kind = INTERNAL_FAILURE, FailureKind.SERVICE
        await _mark_failed(session, run_id, attempt, error, kind)
        return None


async def _plan(runtime: Runtime, session: AsyncSession, run: EvaluationRun) -> _Plan:
    submission = await submissions_repo.get(session, run.submission_id)
    assert submission is not None
    track = Track(submission.track)
    gold_version = await gold_repo.get_version(session, submission.gold_version_id)
    assert gold_version is not None
    gold = {g.item_id: g for g in await gold_repo.items_for_track(session, gold_version.id, track)}
    raw = gunzip_limited(
        await runtime.store.read(session, submission.file_sha256), runtime.settings.max_upload_bytes
    )
    parsed = parse_predictions(
        raw,
        filename=submission.filename,
        track=track,
        gold_ids={item_id: track for item_id in gold},
        max_prediction_chars=runtime.settings.max_prediction_chars,
    )
    if not parsed.ok:
        raise ValueError(parsed.report())
    judge = await judging_repo.get_judge_model(session, run.judge_model_id)
    assert judge is not None
    done = await runs_repo.completed_item_ids(session, run.id)
    rubric = await load_rubric(session, run.rubric_version)
    images: dict[str, str] = {}
    if runtime.settings.judge_send_images and "images" in rubric.shows:
        images = await image_files(session, runtime.store, gold_version, gold.values())
    return _Plan(
        run_id=run.id,
        attempt=run.attempt,
        track=track,
        rubric=rubric,
        judge_model=judge.name,
        gold=gold,
        predictions=parsed.predictions.get(track, {}),
        pending=[item_id for item_id in gold if item_id not in done],
        image_files=images,
        rejudge=run.rejudge_id is not None,
    )


async def _heartbeat(runtime: Runtime, run_id: int, attempt: int) -> None:
    """Keeps the run looking alive while judge calls are slow; stops when fenced off."""
    interval = max(runtime.settings.run_stale_after_seconds / 4, 0.5)
    while True:
        await asyncio.sleep(interval)
        async with transaction(runtime.sessions) as session:
            if not await runs_repo.record_progress(session, run_id, attempt):
                return


def _judge_input(plan: _Plan, gold: GoldItem, candidate: str) -> JudgeInput:
    return JudgeInput(
        item_id=gold.item_id,
        track=plan.track,
        question=gold.question,
        reference_answer=gold.answer,
        candidate=candidate,
        aliases=tuple(gold.aliases or ()),
        targets=gold.targets,
        context=gold.context,
        category=gold.category,
        orpha_code=gold.orpha_code,
        evidence=gold.evidence,
        image_paths=tuple(plan.image_files[i] for i in gold.images or () if i in plan.image_files),
    )


def _f1(plan: _Plan, gold: GoldItem, candidate: str) -> float | None:
    if plan.track != Track.T1:
        return None
    return best_token_f1(candidate, gold.answer, gold.aliases or ())


def _missing_row(plan: _Plan, item_id: str) -> dict[str, Any]:
    return _row(
        plan, item_id, item_score=0.0, f1=0.0 if plan.track == Track.T1 else None, missing=True
    )


def _row(plan: _Plan, item_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": plan.run_id,
        "item_id": item_id,
        "ratings": None,
        "item_score": None,
        "f1": None,
        "missing": False,
        "truncated": False,
        "context_truncated": False,
        "cached": False,
        "attempts": 0,
        "latency_ms": 0.0,
        "error": None,
        "raw_reply": None,
        "updated_at": utcnow(),
    }
    row.update(values)
    return row


def _outcome_row(plan: _Plan, outcome: JudgeOutcome, request: JudgeRequest) -> dict[str, Any]:
    gold = plan.gold[outcome.item_id]
    f1 = _f1(plan, gold, plan.predictions[outcome.item_id])
    common = {
        "f1": f1,
        "truncated": request.truncated,
        "context_truncated": request.context_truncated,
        "cached": outcome.cached,
        "attempts": outcome.attempts,
        "latency_ms": outcome.latency_ms,
    }
    if outcome.verdict is None:
        return _row(
            plan,
            outcome.item_id,
            error=outcome.error or "judge error",
            raw_reply=outcome.raw_reply,
            **common,
        )
    ratings = dict(outcome.verdict.ratings)
    return _row(
        plan,
        outcome.item_id,
        ratings=ratings,
        item_score=item_score(plan.rubric, ratings),
        raw_reply=outcome.verdict.raw_reply,
        **common,
    )


async def _write_batch(runtime: Runtime, plan: _Plan, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    async with transaction(runtime.sessions) as session:
        # The fenced progress update comes first: if it matches nothing, nothing is written.
        alive = await runs_repo.record_progress(
            session,
            plan.run_id,
            plan.attempt,
            items_done=sum(1 for r in rows if r["error"] is None),
            judge_errors=sum(1 for r in rows if r["error"] is not None),
            cache_hits=sum(1 for r in rows if r["cached"]),
            judge_calls=sum(r["attempts"] for r in rows if not r["cached"]),
        )
        if not alive:
            raise _Stopped
        await runs_repo.upsert_item_results(session, rows)


async def _judge_pending(runtime: Runtime, plan: _Plan) -> None:
    """Judge every pending item, streaming the results to the database: a batch is written once
    it holds RUN_BATCH_SIZE results or its oldest is JUDGE_FLUSH_SECONDS old, while the judge
    calls go on (`write_in_batches`)."""
    settings = runtime.settings
    await write_in_batches(
        _result_rows(runtime, plan),
        lambda rows: _write_batch(runtime, plan, rows),
        max_items=settings.run_batch_size,
        max_seconds=settings.judge_flush_seconds,
    )


async def _result_rows(runtime: Runtime, plan: _Plan) -> AsyncGenerator[dict[str, Any], None]:
    """One result row per pending item: items settled without a call (no prediction, or one
    that cannot be sent) as they are met, judged items as their verdicts arrive. Requests are
    rendered as the judge client asks for them, so the first calls start at once."""
    settled: list[dict[str, Any]] = []
    by_item: dict[str, JudgeRequest] = {}
    outcomes = cast(
        AsyncGenerator[JudgeOutcome, None],  # judge_many is an async generator
        runtime.judge_client.judge_many(
            _requests(runtime, plan, settled, by_item),
            plan.rubric,
            cache=DatabaseJudgeCache(runtime.sessions),
            base_url=runtime.settings.judge_base_url,
            limit=runtime.rejudge_slots if plan.rejudge else None,
        ),
    )
    async with contextlib.aclosing(outcomes):  # cancels calls in flight when we stop early
        async for outcome in outcomes:
            while settled:
                yield settled.pop()
            yield _outcome_row(plan, outcome, by_item.pop(outcome.item_id))
    for row in settled:
        yield row


def _requests(
    runtime: Runtime,
    plan: _Plan,
    settled: list[dict[str, Any]],
    by_item: dict[str, JudgeRequest],
) -> Iterator[JudgeRequest]:
    """The judge requests of the pending items, rendered lazily; an item that needs no call
    gets its row in `settled` instead."""
    settings = runtime.settings
    for item_id in plan.pending:
        candidate = plan.predictions.get(item_id)
        if candidate is None or not candidate.strip():
            # No prediction, or an empty one: scores 0, no judge call.
            settled.append(_missing_row(plan, item_id))
            continue
        try:
            request = render_request(
                plan.rubric,
                _judge_input(plan, plan.gold[item_id], candidate),
                model=plan.judge_model,
                secret=runtime.keys.prompt_nonce_key,
                max_answer_chars=settings.judge_max_answer_chars,
                seed=settings.judge_seed,
                max_tokens=settings.judge_max_tokens,
                send_images=settings.judge_send_images,
                max_context_chars=settings.judge_max_context_chars,
                max_image_bytes=settings.judge_max_image_bytes,
            )
        except ItemInputError as exc:
            # This item cannot be sent (e.g. an oversize image): its judge error, not the run's.
            settled.append(_row(plan, item_id, error=f"not sent to the judge: {exc}"))
            continue
        by_item[item_id] = request
        yield request


def _aggregate(plan: _Plan, results: Sequence[ItemResult], settings: Settings) -> dict[str, Any]:
    """Track score over all gold items (missing = 0); judge errors are left out and counted."""
    by_item = {r.item_id: r for r in results}
    settled = [r for r in results if r.error is None]
    errors = len(results) - len(settled)
    total = len(plan.gold)
    scores = [r.item_score or 0.0 for r in settled]
    scores += [0.0] * (total - len(by_item))  # no row at all can only mean not yet judged
    rated = [
        r.ratings if r.ratings is not None else dict.fromkeys(plan.rubric.dimension_ids, 0)
        for r in settled
    ]
    low: float | None = None
    high: float | None = None
    if scores:
        low, high = bootstrap_interval(
            scores, resamples=settings.bootstrap_resamples, seed=settings.bootstrap_seed
        )
    f1 = None
    if plan.track == Track.T1:
        f1 = mean_token_f1((r.f1 or 0.0 for r in results), total)
    return {
        "run_id": plan.run_id,
        "score": track_score(scores, total - errors),
        "f1": f1,
        "dimension_means": dimension_means(plan.rubric, rated),
        "ci_low": low,
        "ci_high": high,
        "item_count": total,
        "answered_count": sum(1 for r in results if not r.missing),
        "judge_error_count": errors,
        "judge_inconsistencies": count_inconsistent(
            plan.rubric, (r.ratings for r in settled if r.ratings is not None)
        ),
        "truncated_count": sum(1 for r in results if r.truncated),
        "computed_at": utcnow(),
    }


async def _finish(runtime: Runtime, plan: _Plan) -> RunStatus | None:
    async with transaction(runtime.sessions) as session:
        results = await runs_repo.item_results(session, plan.run_id)
        aggregate = _aggregate(plan, results, runtime.settings)
        inconsistent = aggregate.pop("judge_inconsistencies")
        errors = aggregate["judge_error_count"]
        tolerated = runtime.settings.judge_error_tolerance * max(len(plan.gold), 1)
        if errors > tolerated:
            message = (
                f"{errors} of {len(plan.gold)} items had judge errors (replies that did not "
                "parse, requests the judge rejected, or items that could not be sent), above "
                f"the tolerated {runtime.settings.judge_error_tolerance:.0%}; re-queue the run to "
                "retry those items"
            )
            moved = await _mark_failed(
                session, plan.run_id, plan.attempt, message, FailureKind.SERVICE
            )
            return RunStatus.FAILED if moved else None
        await runs_repo.save_aggregate(session, aggregate)
        moved = await runs_repo.transition(
            session,
            plan.run_id,
            RunStatus.JUDGING,
            RunStatus.SCORED,
            attempt=plan.attempt,
            finished_at=utcnow(),
            judge_inconsistencies=inconsistent,
        )
        if not moved:
            raise _Stopped  # rolls the aggregate back with the unit of work
        return RunStatus.SCORED


async def _fail(
    runtime: Runtime, run_id: int, attempt: int, message: str, kind: FailureKind
) -> None:
    async with transaction(runtime.sessions) as session:
        await _mark_failed(session, run_id, attempt, message, kind)


async def _mark_failed(
    session: AsyncSession, run_id: int, attempt: int, message: str, kind: FailureKind
) -> bool:
    """judging → failed for this attempt only (a newer job's run is left alone)."""
    return await runs_repo.transition(
        session,
        run_id,
        RunStatus.JUDGING,
        RunStatus.FAILED,
        attempt=attempt,
        error=message,
        failure_kind=kind,
        finished_at=utcnow(),
    )
