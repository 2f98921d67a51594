"""The submissions API in-process (SQLite, ASGI transport, a recording queue): tokens,
ownership, multi-track files, duplicates, privacy and the lifecycle actions."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.config import Settings
from app.db.base import Base, utcnow
from app.db.models import AuditEvent, EvaluationRun, Model, Submission
from app.repositories import runs as runs_repo
from app.runs import FailureKind, RunStatus
from app.tracks import Track
from tests.integration.helpers import (
    InProcessApp,
    auth,
    demo_predictions,
    in_process_app,
    multi_track_file,
    sqlite_template,
    web_settings,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def settings(template: Path, tmp_path: Path) -> Settings:
    return web_settings(template, tmp_path)


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


async def count(env: InProcessApp, model: type[Base]) -> int:
    async with env.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def set_run(env: InProcessApp, submission_id: int, **values: object) -> None:
    async with env.sessions() as session:
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.submission_id == submission_id)
            .values(**values)
        )
        await session.commit()


# --- tokens ---------------------------------------------------------------------------------


async def test_an_upload_without_a_token_is_refused_before_anything_is_stored(
    env: InProcessApp, settings: Settings
) -> None:
    response = await env.upload(None, demo_predictions(Track.T1))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["message"] == (
        "this endpoint needs an API token: send 'Authorization: Bearer <token>' "
        "(create one with `mmrare token create --team NAME`)"
    )
    bad = await env.upload("mmr_not-a-token", demo_predictions(Track.T1))
    assert bad.status_code == 401
    assert "unknown or revoked" in bad.json()["error"]["message"]
    assert await count(env, Submission) == 0 and env.queue.jobs == []
    assert not settings.storage_dir.exists() or not any(settings.storage_dir.rglob("*"))


# --- a single-track upload, privacy and duplicates ------------------------------------------


async def test_an_upload_is_private_queued_once_and_visible_to_its_team(env: InProcessApp) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    response = await env.upload(alpha, demo_predictions(Track.T1), model="alpha-vlm")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "accepted" and body["status"] == "queued"
    assert body["team"] == "alpha" and body["published"] is False
    assert body["coverage"] == {"answered": 11, "total": 12}
    assert body["progress"]["queue_position"] == 1
    assert body["status_url"].startswith(f"/submissions/{body['id']}?key=")
    assert len(env.queue.jobs) == 1

    path = f"/api/v1/submissions/{body['id']}"
    assert (await env.client.get(path, headers=auth(alpha))).status_code == 200
    for headers in ({}, auth(beta)):  # private: another team or nobody sees nothing
        hidden = await env.client.get(path, headers=headers)
        assert hidden.status_code == 404
        assert "visible only to its team" in hidden.json()["error"]["message"]
    admin = await env.token("maintainers", admin=True)
    assert (await env.client.get(path, headers=auth(admin))).status_code == 200
    key = body["status_url"].split("key=")[1]
    assert (await env.client.get(path, params={"key": key})).status_code == 200
    assert (await env.client.get(path, params={"key": "0" * 32})).status_code == 404

    published = await env.client.post(f"{path}/publish", headers=auth(alpha))
    assert published.status_code == 200 and published.json()["published"] is True
    public = await env.client.get(path)
    assert public.status_code == 200 and public.json()["status_url"] == f"/submissions/{body['id']}"
    # A view key is compared as text of any kind: a wrong one never breaks the request.
    for odd in ("%C3%A9" * 32, "%ED%A0%80", "%00"):  # é…, a lone surrogate's bytes, NUL
        page = await env.client.get(f"/submissions/{body['id']}?key={odd}")
        api = await env.client.get(f"{path}?key={odd}")
        assert page.status_code == api.status_code == 200, odd


async def test_the_same_file_for_the_same_model_and_track_returns_the_existing_submission(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    first = await env.upload(token, demo_predictions(Track.T2), track=Track.T2)
    again = await env.upload(token, demo_predictions(Track.T2), track=Track.T2)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    other_model = await env.upload(token, demo_predictions(Track.T2), track=Track.T2, model="m2")
    assert other_model.status_code == 201  # a different model is a different submission
    assert await count(env, Submission) == 2 and len(env.queue.jobs) == 2


async def test_gzip_json_arrays_and_a_bom_are_accepted(env: InProcessApp) -> None:
    token = await env.token("alpha")
    lines = [json.loads(line) for line in demo_predictions(Track.T3).splitlines() if line]
    array = b"\xef\xbb\xbf" + json.dumps(lines, indent=1).encode()
    response = await env.upload(token, gzip.compress(array), track=Track.T3, filename="t3.gz")
    assert response.status_code == 201, response.text
    assert response.json()["coverage"] == {"answered": 8, "total": 8}


# --- multi-track files ----------------------------------------------------------------------


async def test_a_multi_track_file_becomes_one_submission_per_track(
    env: InProcessApp, settings: Settings
) -> None:
    token = await env.token("alpha")
    data = multi_track_file(Track.T2, Track.T4)
    response = await env.upload(token, data, track=None, filename="all.jsonl")
    assert response.status_code == 201, response.text
    subs = response.json()["submissions"]
    assert [(s["track"], s["coverage"]) for s in subs] == [
        ("T2", {"answered": 9, "total": 10}),
        ("T4", {"answered": 9, "total": 10}),
    ]
    assert [s["filename"] for s in subs] == ["all.jsonl [T2]", "all.jsonl [T4]"]
    assert len(env.queue.jobs) == 2
    # Each track's part is stored as the JSONL the judge reads, beside the raw upload.
    for sub in subs:
        stored = (settings.storage_dir / sub["file_sha256"][:2] / sub["file_sha256"]).read_text()
        assert all(json.loads(line)["track"] == sub["track"] for line in stored.splitlines())
    again = await env.upload(token, data, track="multi", filename="all.jsonl")
    assert again.status_code == 200
    assert [s["duplicate"] for s in again.json()["submissions"]] == [True, True]
    assert len(env.queue.jobs) == 2


async def test_a_multi_track_file_with_a_line_without_track_is_rejected_whole(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    data = multi_track_file(Track.T2) + b'{"id": "t4-0001", "prediction": "x"}\n'
    response = await env.upload(token, data, track=None, filename="all.jsonl")
    assert response.status_code == 422
    body = response.json()
    assert [s["track"] for s in body["submissions"]] == ["T2"]  # recorded where it was aimed
    assert body["error"]["details"][1] == (
        "all.jsonl line 10 (id 't4-0001'): missing 'track' — with no track chosen for the "
        "upload, every line must name its track (T1, T2, T3, T4)"
    )
    assert env.queue.jobs == []


# --- ownership and models -------------------------------------------------------------------


async def test_another_team_cannot_submit_under_your_model(env: InProcessApp) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    assert (
        await env.upload(alpha, demo_predictions(Track.T1), model="alpha-vlm")
    ).status_code == 201
    refused = await env.upload(beta, demo_predictions(Track.T4), track=Track.T4, model="alpha-vlm")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "model 'alpha-vlm' is registered by another team; only that team can submit under it "
        "or change it. Pick another name for your model"
    )
    folded = await env.upload(beta, demo_predictions(Track.T4), track=Track.T4, model="ALPHA-vlm")
    assert folded.status_code == 409 and "names ignore case" in folded.json()["error"]["message"]
    assert await count(env, Submission) == 1 and len(env.queue.jobs) == 1
    admin = await env.token("maintainers", admin=True)
    by_admin = await env.upload(
        admin, demo_predictions(Track.T4), track=Track.T4, model="alpha-vlm"
    )
    assert by_admin.status_code == 201 and by_admin.json()["team"] == "alpha"


async def test_models_register_update_and_read(env: InProcessApp) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    created = await env.client.post(
        "/api/v1/models",
        json={
            "name": "RareVLM-7B",
            "organisation": "Lab",
            "category": "medical",
            "parameter_count": 7_000_000_000,
            "url": "https://example.org/rarevlm",
        },
        headers=auth(alpha),
    )
    assert created.status_code == 201, created.text
    assert created.json()["team"] == "alpha" and created.json()["medical"] is True
    clash = await env.client.post("/api/v1/models", json={"name": "rarevlm-7b"}, headers=auth(beta))
    assert clash.status_code == 409
    assert clash.json()["error"]["message"] == (
        "a model named 'rarevlm-7b' already exists as 'RareVLM-7B' (names ignore case); "
        "choose another name"
    )
    not_writable = await env.client.patch(
        "/api/v1/models/RareVLM-7B", json={"team_id": 2, "name": "x"}, headers=auth(alpha)
    )
    assert not_writable.status_code == 422
    assert {e["loc"][-1] for e in not_writable.json()["error"]["fields"]} == {"team_id", "name"}
    bad_url = await env.client.patch(
        "/api/v1/models/RareVLM-7B", json={"paper_url": "ftp://x"}, headers=auth(alpha)
    )
    assert bad_url.status_code == 422
    assert bad_url.json()["error"]["message"] == (
        "paper_url must be an http:// or https:// address without spaces"
    )
    foreign = await env.client.patch(
        "/api/v1/models/RareVLM-7B", json={"description": "mine now"}, headers=auth(beta)
    )
    assert foreign.status_code == 403
    patched = await env.client.patch(
        "/api/v1/models/RareVLM-7B",
        json={"description": "A 7B model", "open_weights": True},
        headers=auth(alpha),
    )
    assert patched.status_code == 200
    public = (await env.client.get("/api/v1/models/RareVLM-7B")).json()
    assert public["description"] == "A 7B model" and public["open_weights"] is True
    assert public["organisation"] == "Lab"  # untouched by the partial update
    assert (await env.client.get("/api/v1/models/nope")).status_code == 404
    async with env.sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["model.register", "model.update"]


async def test_a_reported_paper_model_cannot_be_submitted_under(env: InProcessApp) -> None:
    async with env.sessions() as session:
        session.add(Model(name="GPT-4o", team_id=None))
        await session.commit()
    token = await env.token("alpha")
    refused = await env.upload(token, demo_predictions(Track.T1), model="GPT-4o")
    assert refused.status_code == 403
    assert "reported in the paper" in refused.json()["error"]["message"]


# --- form errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"track": "T1"},
            "form field 'model' is missing; name the model the predictions are "
            "from, e.g. -F model=MyVLM-7B",
        ),
        (
            {"track": "T9", "model": "m"},
            "track 'T9' is not a track; use one of T1, T2, T3, T4, "
            "or leave it out (or send 'multi') for a file whose every line names its track",
        ),
        (
            {"track": "T1", "model": "m", "uploaded_by": "me"},
            "unknown form field(s) "
            "'uploaded_by'; the upload takes category, description, medical, model, open_weights, "
            "organisation, paper_url, parameter_count, track, url and the file",
        ),
        (
            {"track": "T1", "model": "m", "category": "vet"},
            "category 'vet' is not one of general, medical, medical_unified",
        ),
        (
            {"track": "T1", "model": "m", "medical": "maybe"},
            "form field 'medical' must be true or false, not 'maybe'",
        ),
    ],
)
async def test_form_errors_name_the_field_and_record_nothing(
    env: InProcessApp, fields: dict[str, str], message: str
) -> None:
    token = await env.token("alpha")
    response = await env.client.post(
        "/api/v1/submissions",
        data=fields,
        files={"file": ("p.jsonl", demo_predictions(Track.T1))},
        headers=auth(token),
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == message
    assert await count(env, Submission) == 0 and await count(env, Model) == 0


async def test_a_form_without_a_file_or_not_multipart_is_refused(env: InProcessApp) -> None:
    token = await env.token("alpha")
    no_file = await env.client.post(
        "/api/v1/submissions",
        files={"track": (None, "T1"), "model": (None, "m")},
        headers=auth(token),
    )
    assert no_file.status_code == 422
    assert no_file.json()["error"]["message"] == (
        "the form has no file; send the predictions as the file field 'file'"
    )
    as_json = await env.client.post("/api/v1/submissions", json={}, headers=auth(token))
    assert as_json.status_code == 422
    assert as_json.json()["error"]["message"].startswith(
        "send the upload as multipart/form-data with a 'file' part"
    )


# --- lifecycle ------------------------------------------------------------------------------


async def test_publish_unpublish_cancel_and_requeue(env: InProcessApp) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    sub = (await env.upload(alpha, demo_predictions(Track.T1))).json()
    path = f"/api/v1/submissions/{sub['id']}"

    # Another team: a private submission does not exist for it; a published one is not its own.
    assert (await env.client.post(f"{path}/publish", headers=auth(beta))).status_code == 404
    assert (await env.client.post(f"{path}/publish", headers=auth(alpha))).status_code == 200
    foreign = await env.client.post(f"{path}/cancel", headers=auth(beta))
    assert foreign.status_code == 403
    assert foreign.json()["error"]["message"] == (
        f"submission {sub['id']} belongs to another team; only its team can change it"
    )
    unpublished = await env.client.post(f"{path}/unpublish", headers=auth(alpha))
    assert unpublished.json()["published"] is False

    not_failed = await env.client.post(f"{path}/requeue", headers=auth(alpha))
    assert not_failed.status_code == 409
    assert not_failed.json()["error"]["message"] == (
        f"submission {sub['id']} is queued; only a failed or cancelled submission can be re-queued"
    )
    cancelled = await env.client.post(f"{path}/cancel", headers=auth(alpha))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = await env.client.post(f"{path}/cancel", headers=auth(alpha))
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == (
        f"submission {sub['id']} is cancelled; only a queued, judging or waiting submission "
        "can be cancelled"
    )

    await set_run(
        env,
        sub["id"],
        status=RunStatus.FAILED.value,
        failure_kind=FailureKind.SERVICE.value,
        error="judge unavailable: connection refused",
        started_at=utcnow(),
    )
    requeued = await env.client.post(f"{path}/requeue", headers=auth(alpha))
    assert requeued.status_code == 200 and requeued.json()["status"] == "queued"
    assert requeued.json()["failure"] is None
    run_id = env.queue.jobs[0][0]
    assert env.queue.jobs == [(run_id, 1), (run_id, 2)]  # a new attempt, enqueued after commit
    async with env.sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-4:] == [
        "submission.publish",
        "submission.unpublish",
        "submission.cancel",
        "submission.requeue",
    ]


async def test_a_rejected_submission_cannot_be_published_or_requeued(env: InProcessApp) -> None:
    token = await env.token("alpha")
    rejected = await env.upload(token, b"not json\n")
    assert rejected.status_code == 422
    path = f"/api/v1/submissions/{rejected.json()['id']}"
    publish = await env.client.post(f"{path}/publish", headers=auth(token))
    assert publish.status_code == 409 and "rejected" in publish.json()["error"]["message"]
    requeue = await env.client.post(f"{path}/requeue", headers=auth(token))
    assert requeue.status_code == 409


async def test_a_judging_submission_can_be_cancelled(env: InProcessApp) -> None:
    token = await env.token("alpha")
    sub = (await env.upload(token, demo_predictions(Track.T1))).json()
    await set_run(env, sub["id"], status=RunStatus.JUDGING.value, started_at=utcnow(), items_done=4)
    cancelled = await env.client.post(
        f"/api/v1/submissions/{sub['id']}/cancel", headers=auth(token)
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["progress"]["items_done"] == 4  # what was judged is kept
    async with env.sessions() as session:
        run = await session.scalar(select(EvaluationRun))
        assert run is not None and run.finished_at is not None
    # A worker still judging it is fenced off: its next progress update matches nothing.
    async with env.sessions() as session:
        assert not await runs_repo.record_progress(session, run.id, run.attempt, items_done=1)


async def test_pinning_moves_the_pin_within_a_model_and_track(env: InProcessApp) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    first = (await env.upload(alpha, demo_predictions(Track.T1))).json()
    changed = demo_predictions(Track.T1).replace(b'"prediction": "', b'"prediction": "x ', 1)
    second = (await env.upload(alpha, changed)).json()
    assert first["id"] != second["id"]

    pin = await env.client.post(f"/api/v1/submissions/{first['id']}/pin", headers=auth(alpha))
    assert pin.status_code == 200 and pin.json()["pinned"] is True
    moved = await env.client.post(f"/api/v1/submissions/{second['id']}/pin", headers=auth(alpha))
    assert moved.json()["pinned"] is True
    async with env.sessions() as session:
        rows = await session.execute(select(Submission.id, Submission.pinned))
        pins = {submission_id: pinned for submission_id, pinned in rows}
    assert pins == {first["id"]: False, second["id"]: True}  # one pin per model and track

    foreign = await env.client.post(f"/api/v1/submissions/{second['id']}/unpin", headers=auth(beta))
    assert foreign.status_code == 404  # private: another team cannot see it
    unpin = await env.client.post(f"/api/v1/submissions/{second['id']}/unpin", headers=auth(alpha))
    assert unpin.json()["pinned"] is False
    async with env.sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["submission.pin", "submission.pin", "submission.unpin"]


async def test_a_submission_below_the_ranked_coverage_stays_private(env: InProcessApp) -> None:
    token = await env.token("alpha")
    lines = [line for line in demo_predictions(Track.T2).splitlines() if line][:5]
    thin = (await env.upload(token, b"\n".join(lines) + b"\n", track=Track.T2)).json()
    assert thin["coverage"] == {"answered": 5, "total": 10}
    path = f"/api/v1/submissions/{thin['id']}"
    refused = await env.client.post(f"{path}/publish", headers=auth(token))
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "answers 5 of 10 T2 items (50.0%)" in message
    assert "at least 90%" in message and "MIN_RANKED_COVERAGE" in message
    still = await env.client.get(path, headers=auth(token))
    assert still.json()["published"] is False  # nothing changed
    assert (await env.client.get(path)).status_code == 404  # still private to others
    # 9 of 10 is exactly the threshold: published.
    nine = [line for line in demo_predictions(Track.T2).splitlines() if line]
    assert len(nine) == 9
    full = (await env.upload(token, b"\n".join(nine) + b"\n", track=Track.T2, model="m2")).json()
    ok = await env.client.post(f"/api/v1/submissions/{full['id']}/publish", headers=auth(token))
    assert ok.status_code == 200 and ok.json()["published"] is True


async def test_row_ids_in_paths_are_bounded_to_what_the_database_holds(env: InProcessApp) -> None:
    """Beyond a 32-bit id (PostgreSQL's id columns) a path is refused with 422, not sent to the
    database; the largest id it can hold is simply not found."""
    admin = await env.token("maintainers", admin=True)
    for path in (
        "/api/v1/submissions/2147483648",
        "/api/v1/submissions/99999999999999999999",
        "/api/v1/runs/2147483648/provenance.json",
        "/api/v1/submissions/0",
    ):
        refused = await env.client.get(path)
        assert refused.status_code == 422, path
    too_big = await env.client.get("/api/v1/admin/rejudges/2147483648", headers=auth(admin))
    assert too_big.status_code == 422
    for path in ("/api/v1/submissions/2147483647", "/api/v1/runs/2147483647/provenance.json"):
        assert (await env.client.get(path)).status_code == 404, path
