"""Concurrent uploads on PostgreSQL and Redis: every upload stored and queued exactly once, and
the quota's check-then-insert serialised by the team lock (no two uploads share a last slot)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import EvaluationRun, Submission
from app.db.session import create_engine, create_session_factory
from app.queue import run_job_id
from app.tracks import Track
from tests.integration.helpers import RecordingQueue, auth, prepare_database, serve, team_token
from tests.support import wait_for

pytestmark = pytest.mark.integration

ITEMS = {Track.T1: "t1-0001", Track.T2: "t2-0001", Track.T3: "t3-0001", Track.T4: "t4-0001"}


def predictions(n: int, track: Track) -> bytes:
    return json.dumps({"id": ITEMS[track], "prediction": f"answer number {n}"}).encode() + b"\n"


def settings_for(pg: str, redis_url: str, tmp_path: Path, per_day: int) -> Settings:
    settings = Settings(
        database_url=pg,
        redis_url=redis_url,  # arq: jobs wait in Redis, no worker runs in these tests
        storage_dir=tmp_path / "uploads",
        secret_key="test-secret",
        judge_concurrency=1,
        submissions_per_day=per_day,
    )
    prepare_database(settings)
    return settings


async def upload_all(
    base_url: str, token: str, files: list[tuple[Track, bytes]], model: str = "concurrent-vlm"
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(files))
    async with httpx.AsyncClient(
        base_url=base_url, headers=auth(token), timeout=60, limits=limits
    ) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/v1/submissions",
                    data={"track": track.value, "model": model},
                    files={"file": (f"{n}.jsonl", data)},
                )
                for n, (track, data) in enumerate(files)
            )
        )


def db_counts(database_url: str) -> tuple[int, int, int]:
    async def run() -> tuple[int, int, int]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                subs = await session.scalar(select(func.count()).select_from(Submission))
                runs = await session.scalar(select(func.count()).select_from(EvaluationRun))
                distinct = await session.scalar(
                    select(func.count(func.distinct(EvaluationRun.submission_id)))
                )
                return subs or 0, runs or 0, distinct or 0
        finally:
            await engine.dispose()

    return asyncio.run(run())


def queued_job_ids(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    try:
        members: list[bytes] = client.zrange("arq:queue", 0, -1)  # type: ignore[assignment]
        return sorted(member.decode() for member in members)
    finally:
        client.close()


def test_fifty_concurrent_uploads_are_stored_and_queued_exactly_once(
    pg_clean: str, redis_clean: str, tmp_path: Path
) -> None:
    settings = settings_for(pg_clean, redis_clean, tmp_path, per_day=100)
    token = team_token(pg_clean, "busy")
    files = [(list(Track)[n % 4], predictions(n, list(Track)[n % 4])) for n in range(50)]
    with serve(settings) as base_url:
        responses = asyncio.run(upload_all(base_url, token, files))
    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses[:3]]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 50
    assert db_counts(pg_clean) == (50, 50, 50)
    run_ids = range(1, 51)  # one run per submission, numbered by insertion
    assert queued_job_ids(redis_clean) == sorted(run_job_id(run_id, 1) for run_id in run_ids)


def test_concurrent_uploads_cannot_share_the_last_slots(
    pg_clean: str, redis_clean: str, tmp_path: Path
) -> None:
    settings = settings_for(pg_clean, redis_clean, tmp_path, per_day=5)
    first, second = team_token(pg_clean, "racers"), team_token(pg_clean, "crowd")
    with serve(settings) as base_url:
        prefill = asyncio.run(
            upload_all(base_url, first, [(Track.T1, predictions(n, Track.T1)) for n in range(4)])
        )
        assert [r.status_code for r in prefill] == [201] * 4
        # Two uploads for the one slot left: exactly one wins.
        race = asyncio.run(
            upload_all(base_url, first, [(Track.T1, predictions(n, Track.T1)) for n in (10, 11)])
        )
        assert sorted(r.status_code for r in race) == [201, 429]
        loser = next(r for r in race if r.status_code == 429)
        assert int(loser.headers["retry-after"]) > 0
        # Twelve at once for five free slots: exactly five win.
        crowd = asyncio.run(
            upload_all(
                base_url,
                second,
                [(Track.T2, predictions(n, Track.T2)) for n in range(20, 32)],
                model="crowd-vlm",
            )
        )
        assert sorted(r.status_code for r in crowd) == [201] * 5 + [429] * 7
    assert db_counts(pg_clean) == (10, 10, 10)
    assert len(queued_job_ids(redis_clean)) == 10


def test_a_racing_duplicate_is_caught_by_the_database_and_answered_as_a_duplicate(
    pg_clean: str, tmp_path: Path
) -> None:
    """Two uploads of one file for one model and track, by principals whose uploads the team
    lock does not serialise (the model's team and a maintainer): the second's duplicate check
    runs before the first commits, so only the unique index stops a second accepted row; the
    upload is retried and answers with the first submission."""
    from sqlalchemy import text

    from app.services.accounts import Principal, authenticate
    from app.services.submissions import SubmissionRequest, SubmitOutcome, submit
    from app.storage import build_store
    from app.unit_of_work import unit_of_work
    from app.web.uploads import submit_upload

    settings = Settings(
        database_url=pg_clean, storage_dir=tmp_path / "uploads", secret_key="test-secret"
    )
    prepare_database(settings)
    team_plain = team_token(pg_clean, "alpha")
    admin_plain = team_token(pg_clean, "maintainers", admin=True)
    store = build_store(settings)

    def request(principal: Principal, n: int) -> SubmissionRequest:
        return SubmissionRequest(
            principal, "race-vlm", Track.T1, "T1.jsonl", predictions(n, Track.T1)
        )

    async def race() -> None:
        engine = create_engine(pg_clean)
        sessions = create_session_factory(engine)
        try:
            async with sessions() as setup:
                team = await authenticate(setup, team_plain)
                admin = await authenticate(setup, admin_plain)
                await setup.commit()
            assert team is not None and admin is not None
            # The team registers its model first, so the maintainer may submit under it.
            queue = RecordingQueue()
            async with unit_of_work(sessions, queue) as uow:
                await submit_upload(uow, store, settings, request(team, 1))

            async def racing_upload() -> SubmitOutcome:
                async with unit_of_work(sessions, queue) as uow:
                    return await submit_upload(uow, store, settings, request(admin, 2))

            async with sessions() as first, sessions() as probe:
                mine = await submit(first, store, settings, request(team, 2))  # uncommitted
                racing = asyncio.create_task(racing_upload())

                async def blocked_on_our_insert() -> bool:
                    waiting = await probe.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()"
                        )
                    )
                    await probe.rollback()
                    return bool(waiting)

                await wait_for(blocked_on_our_insert, 20, message="the racing insert to wait")
                await first.commit()
                theirs = await asyncio.wait_for(racing, 30)
            assert not mine.items[0].duplicate
            assert theirs.items[0].duplicate
            assert theirs.items[0].submission.id == mine.items[0].submission.id
            assert len(queue.jobs) == 1  # the first upload's run; the duplicate queued nothing
            async with sessions() as check:
                accepted = await check.scalar(
                    select(func.count())
                    .select_from(Submission)
                    .where(Submission.state == "accepted")
                )
            assert accepted == 2  # the first file and the raced one, each once
        finally:
            await engine.dispose()

    asyncio.run(race())
