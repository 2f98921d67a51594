"""The upload quota: per team and track, SUBMISSIONS_PER_DAY accepted submissions in any
rolling 24 hours, with the counting rule of docs/submissions.md."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.config import Settings
from app.db.base import utcnow
from app.db.models import EvaluationRun, Submission
from app.runs import FailureKind, RunStatus
from app.tracks import Track
from tests.integration.helpers import (
    InProcessApp,
    auth,
    in_process_app,
    multi_track_file,
    sqlite_template,
    web_settings,
)

LIMIT = 5
FILES = itertools.count(1000)  # a different file for every upload


def predictions(n: int, track: Track = Track.T1) -> bytes:
    """A valid one-line file for `track`; `n` makes each one a different file."""
    item = {"T1": "t1-0001", "T2": "t2-0001", "T3": "t3-0001", "T4": "t4-0001"}[track.value]
    return json.dumps({"id": item, "prediction": f"answer {n}"}).encode() + b"\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def settings(template: Path, tmp_path: Path) -> Settings:
    return web_settings(template, tmp_path, submissions_per_day=LIMIT)


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


async def fill(env: InProcessApp, token: str, count: int, track: Track = Track.T1) -> list[int]:
    ids = []
    for _ in range(count):
        response = await env.upload(token, predictions(next(FILES), track), track=track)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def set_run(env: InProcessApp, submission_id: int, **values: object) -> None:
    async with env.sessions() as session:
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.submission_id == submission_id)
            .values(**values)
        )
        await session.commit()


async def set_created(env: InProcessApp, submission_id: int, created_at: datetime) -> None:
    async with env.sessions() as session:
        await session.execute(
            update(Submission).where(Submission.id == submission_id).values(created_at=created_at)
        )
        await session.commit()


async def test_the_fifth_is_accepted_and_the_sixth_gets_429_with_retry_after(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    ids = await fill(env, token, LIMIT)
    oldest = utcnow() - timedelta(hours=3)
    await set_created(env, ids[0], oldest)
    refused = await env.upload(token, predictions(99))
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    expected = (oldest + timedelta(hours=24) - utcnow()).total_seconds()
    assert expected - 5 <= retry_after <= expected + 1  # seconds until the oldest leaves
    opens = oldest + timedelta(hours=24)
    message = refused.json()["error"]["message"]
    assert message.startswith(
        f"team 'alpha' has used its 5 submissions for T1 in the last 24 hours; the next slot "
        f"opens at {opens:%Y-%m-%d %H:%M:%S} UTC (in 2"
    )
    assert len(env.queue.jobs) == LIMIT
    other_track = await env.upload(token, predictions(0, Track.T2), track=Track.T2)
    assert other_track.status_code == 201  # the limit is per track


async def test_quota_is_reported_by_the_api_and_on_the_upload_page(env: InProcessApp) -> None:
    token = await env.token("alpha")
    await fill(env, token, 2)
    quota = (await env.client.get("/api/v1/quota", headers=auth(token))).json()
    assert quota["team"] == "alpha" and quota["limit"] == LIMIT and quota["exempt"] is False
    t1, t2 = quota["tracks"]["T1"], quota["tracks"]["T2"]
    assert (t1["used"], t1["remaining"]) == (2, 3) and t1["next_slot_at"] is not None
    assert (t2["used"], t2["remaining"], t2["next_slot_at"]) == (0, 5, None)
    assert (await env.client.get("/api/v1/quota")).status_code == 401
    page = await env.client.get("/submit", headers=auth(token))
    assert page.status_code == 200
    assert "Team <strong>alpha</strong>: at most 5 accepted submissions per track" in page.text
    assert "<td>T1</td><td>Diagnosis</td><td>2 / 5</td><td>3</td>" in page.text


async def test_rejected_files_do_not_count(env: InProcessApp) -> None:
    token = await env.token("alpha")
    for n in range(LIMIT + 2):
        bad = await env.upload(token, f'{{"id": "nope-{n}", "prediction": "x"}}\n'.encode())
        assert bad.status_code == 422
    await fill(env, token, LIMIT)


async def test_service_failures_and_cancellations_before_judging_do_not_count(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    ids = await fill(env, token, LIMIT)
    started = utcnow()
    await set_run(
        env,
        ids[0],
        status=RunStatus.FAILED.value,
        failure_kind=FailureKind.SERVICE.value,
        started_at=started,
    )
    cancelled = await env.client.post(f"/api/v1/submissions/{ids[1]}/cancel", headers=auth(token))
    assert cancelled.status_code == 200  # cancelled while queued: judging never started
    freed = await fill(env, token, 2)  # two slots came back
    assert len(freed) == 2
    assert (await env.upload(token, predictions(77))).status_code == 429

    # What does count: a failure caused by the input, and a cancellation after judging began.
    await set_run(
        env,
        freed[0],
        status=RunStatus.FAILED.value,
        failure_kind=FailureKind.INPUT.value,
        started_at=started,
    )
    await set_run(env, freed[1], status=RunStatus.CANCELLED.value, started_at=started)
    await set_run(env, ids[2], status=RunStatus.SCORED.value, started_at=started)
    assert (await env.upload(token, predictions(78))).status_code == 429


async def test_requeueing_a_run_that_did_not_count_needs_a_free_slot(env: InProcessApp) -> None:
    token = await env.token("alpha")
    ids = await fill(env, token, LIMIT)
    await set_run(
        env,
        ids[0],
        status=RunStatus.FAILED.value,
        failure_kind=FailureKind.SERVICE.value,
        started_at=utcnow(),
    )
    await fill(env, token, 1)  # the freed slot is taken by a new upload
    refused = await env.client.post(f"/api/v1/submissions/{ids[0]}/requeue", headers=auth(token))
    assert refused.status_code == 429 and "retry-after" in refused.headers


async def test_the_window_is_rolling(env: InProcessApp) -> None:
    token = await env.token("alpha")
    ids = await fill(env, token, LIMIT)
    await set_created(env, ids[0], utcnow() - timedelta(hours=24, seconds=1))
    assert (await env.upload(token, predictions(50))).status_code == 201
    await set_created(env, ids[1], utcnow() - timedelta(hours=24) + timedelta(seconds=60))
    refused = await env.upload(token, predictions(51))
    assert refused.status_code == 429
    assert 55 <= int(refused.headers["retry-after"]) <= 61


async def test_maintainers_are_exempt(env: InProcessApp) -> None:
    admin = await env.token("maintainers", admin=True)
    await fill(env, admin, LIMIT + 2)
    quota = (await env.client.get("/api/v1/quota", headers=auth(admin))).json()
    assert quota["exempt"] is True and quota["tracks"]["T1"]["used"] == LIMIT + 2


async def test_a_multi_track_upload_needs_a_slot_on_every_track_it_holds(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    await fill(env, token, LIMIT, Track.T4)
    refused = await env.upload(token, multi_track_file(Track.T2, Track.T4), track=None)
    assert refused.status_code == 429
    assert "submissions for T4 in the last 24 hours" in refused.json()["error"]["message"]
    quota = (await env.client.get("/api/v1/quota", headers=auth(token))).json()
    assert quota["tracks"]["T2"]["used"] == 0  # nothing of the refused upload was kept
