"""Maintainers' API in-process (SQLite, ASGI transport, the stand-in judge on a thread).

Jobs go to a recording queue and this test runs them itself with the real job function
(`execute_job`), so "while the rejudge runs" is a state the test holds, not a race it polls for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.config import Settings
from app.db.models import AuditEvent, EvaluationRun, ItemResult, RunAggregate
from app.rubrics.loader import bundled_rubric
from app.services.judging import execute_job
from app.tracks import Track
from tests.integration.helpers import (
    InProcessApp,
    auth,
    demo_predictions,
    in_process_app,
    prepare_database,
    sign_in_admin,
)
from tests.support import StandinThread

T2_SOURCE = bundled_rubric(Track.T2).source
# Only a weight changes: every judge request is the same, so the cache answers all of them.
T2_REWEIGHTED = T2_SOURCE.replace("weight = 1", "weight = 3", 1)
# The prompt changes: every T2 request is new.
T2_REWORDED = T2_REWEIGHTED.replace(
    "Do not reward length, confidence or style.",
    "Do not reward length, confidence, tone or style.",
)


@pytest.fixture
def judge() -> Iterator[StandinThread]:
    with StandinThread() as standin:
        yield standin


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Extra settings; a test changes them with `@pytest.mark.parametrize("overrides", …)`."""
    return {}


@pytest.fixture
def settings(
    sqlite_url: str, tmp_path: Path, judge: StandinThread, overrides: dict[str, Any]
) -> Settings:
    settings = Settings(
        database_url=sqlite_url,
        storage_dir=tmp_path / "uploads",
        secret_key="test-secret",
        judge_base_url=judge.base_url,
        judge_backoff_base_seconds=0.01,
        submissions_per_day=50,
        leaderboard_recheck_seconds=0,  # the board looks for changes on every read
        min_ranked_coverage=0.0,  # rejudge fixtures publish half-answered files
        **overrides,
    )
    prepare_database(settings)
    return settings


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


async def test_drain_is_the_only_runner_of_jobs(env: InProcessApp) -> None:
    """The app given a recording queue starts no runner and no pick-up loop of its own: one
    would judge a queued run behind `drain`'s back, which would then find it taken."""
    running = {task.get_coro().__qualname__ for task in asyncio.all_tasks()}  # type: ignore[union-attr]
    assert not {name for name in running if "maintain" in name or "InProcessQueue" in name}
    assert env.app.state.runtime.queue is env.queue


async def drain(env: InProcessApp, limit: int | None = None) -> int:
    """Run queued jobs (and the jobs they enqueue) through the real job function."""
    runtime = env.app.state.runtime
    done = 0
    while env.queue.jobs and (limit is None or done < limit):
        run_id, attempt = env.queue.jobs.pop(0)
        await execute_job(runtime, run_id, attempt)
        done += 1
    return done


async def scored_submission(
    env: InProcessApp, token: str, track: Track, model: str, data: bytes | None = None
) -> int:
    response = await env.upload(token, data or demo_predictions(track), track=track, model=model)
    assert response.status_code == 201, response.text
    submission_id: int = response.json()["id"]
    await drain(env)
    published = await env.client.post(
        f"/api/v1/submissions/{submission_id}/publish", headers=auth(token)
    )
    assert published.status_code == 200, published.text
    return submission_id


def fewer_answers(track: Track) -> bytes:
    """Every other demo prediction, each with a word added (so its judge requests are its own):
    a second model with a lower score."""
    records = [json.loads(line) for line in demo_predictions(track).decode().splitlines() if line]
    lines = [json.dumps({**r, "prediction": r["prediction"] + " (beta)"}) for r in records[::2]]
    return ("\n".join(lines) + "\n").encode()


async def board_cells(env: InProcessApp, track: Track) -> dict[str, tuple[float, str]]:
    board = (await env.client.get("/api/v1/leaderboard")).json()
    return {
        entry["model"]: (cell["score"], cell["rubric_version"])
        for entry in board["entries"]
        if entry["kind"] == "judged" and (cell := entry["tracks"].get(track.value))
    }


async def admin_post(env: InProcessApp, admin: str, path: str, body: Any) -> Any:
    return await env.client.post(f"/api/v1/admin{path}", json=body, headers=auth(admin))


async def admin_get(env: InProcessApp, admin: str, path: str) -> Any:
    response = await env.client.get(f"/api/v1/admin{path}", headers=auth(admin))
    assert response.status_code == 200, response.text
    return response.json()


# --- access ---------------------------------------------------------------------------------


async def test_maintainer_endpoints_need_an_admin_token(env: InProcessApp) -> None:
    team = await env.token("alpha")
    admin = await env.token("maintainers", admin=True)
    assert (await env.client.get("/api/v1/admin/rubrics")).status_code == 401
    forbidden = await env.client.get("/api/v1/admin/rubrics", headers=auth(team))
    assert forbidden.status_code == 403 and "admin token" in forbidden.json()["error"]["message"]
    assert (await env.client.get("/api/v1/admin/rubrics", headers=auth(admin))).status_code == 200
    # The pages' cookie lets an admin read, never change anything through the API.
    await sign_in_admin(env.client, admin)
    try:
        assert (await env.client.get("/api/v1/admin/audit")).status_code == 200
        refused = await env.client.post("/api/v1/admin/rejudges", json={"track": "T2"})
        assert refused.status_code == 401
    finally:
        env.client.cookies.clear()


# --- rubric versions ------------------------------------------------------------------------


async def test_rubric_versions_load_once_list_activate_by_prefix_and_are_audited(
    env: InProcessApp,
) -> None:
    admin = await env.token("maintainers", admin=True)
    token = await env.token("alpha")
    loaded = await admin_post(
        env, admin, "/rubrics", {"source": T2_REWORDED, "filename": "T2.toml"}
    )
    assert loaded.status_code == 201, loaded.text
    version = loaded.json()["version"]
    assert loaded.json()["active"] is False and loaded.json()["track"] == "T2"
    again = await admin_post(env, admin, "/rubrics", {"source": T2_REWORDED})
    assert again.status_code == 200 and again.json()["version"] == version  # no-op

    broken = await admin_post(
        env, admin, "/rubrics", {"source": "track = 'T9'", "filename": "x.toml"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["message"].startswith("x.toml: ")

    listed = await admin_get(env, admin, "/rubrics?track=T2")
    assert {r["version"] for r in listed} == {version, bundled_rubric(Track.T2).version}

    for prefix, status, fragment in (
        ("ab", 422, "at least 4 hex"),
        ("zzzz", 422, "hex"),
        ("0000000000", 404, "no rubric version"),
    ):
        response = await admin_post(env, admin, f"/rubrics/{prefix}/activate", {"track": "T2"})
        assert response.status_code == status and fragment in response.json()["error"]["message"]
    wrong_track = await admin_post(env, admin, f"/rubrics/{version[:8]}/activate", {"track": "T3"})
    assert wrong_track.status_code == 422 and "is a T2 rubric" in wrong_track.text

    # A scored T2 submission has no score under the new version: activation would drop it.
    await scored_submission(env, token, Track.T2, "alpha-vlm")
    refused = await admin_post(env, admin, f"/rubrics/{version[:8]}/activate", {"track": "T2"})
    assert refused.status_code == 409 and "rejudge" in refused.json()["error"]["message"]
    forced = await admin_post(
        env, admin, f"/rubrics/{version[:8]}/activate", {"track": "T2", "force": True}
    )
    assert forced.status_code == 200, forced.text
    assert forced.json() | {"previous": None} == {
        "track": "T2",
        "version": version,
        "previous": None,
        "changed": True,
        "unscored_submissions": 1,
    }
    assert await board_cells(env, Track.T2) == {}  # forced: the unscored entry left the board

    audit = await admin_get(env, admin, "/audit")
    actions = [(e["action"], e["actor"]) for e in audit]
    assert actions.count(("rubric.load", "maintainers (" + admin[:10] + "…)")) == 1
    assert ("rubric.activate", "maintainers (" + admin[:10] + "…)") in actions
    activation = next(e for e in audit if e["action"] == "rubric.activate")
    assert activation["details"]["forced"] is True and activation["target"] == "track:T2"


# --- rejudges -------------------------------------------------------------------------------


async def test_a_rejudge_keeps_the_old_board_until_it_switches_and_reuses_the_cache(
    env: InProcessApp, judge: StandinThread
) -> None:
    admin = await env.token("maintainers", admin=True)
    alpha, beta = await env.token("alpha"), await env.token("beta")
    first = await scored_submission(env, alpha, Track.T2, "alpha-vlm")
    second = await scored_submission(env, beta, Track.T2, "beta-vlm", fewer_answers(Track.T2))
    await scored_submission(env, alpha, Track.T4, "alpha-vlm")
    old_board = await board_cells(env, Track.T2)
    old_version = bundled_rubric(Track.T2).version
    assert {v for _, v in old_board.values()} == {old_version}
    calls_before = judge.app.stats.requests

    # 1. Unchanged rubric: every request is answered by the cache.
    unchanged = await admin_post(env, admin, "/rejudges", {"track": "T2"})
    assert unchanged.status_code == 201, unchanged.text
    assert unchanged.json()["progress"]["submissions_total"] == 2
    await drain(env)
    done = await admin_get(env, admin, f"/rejudges/{unchanged.json()['id']}")
    assert done["status"] == "completed" and done["switched"] is False  # nothing to switch
    assert done["progress"]["judge_calls"] == 0 and done["progress"]["cache_hits"] == 9 + 5
    assert judge.app.stats.requests == calls_before

    # 2. Reweighted rubric: same requests (zero calls) but new scores, shown only at the switch.
    new_version = (await admin_post(env, admin, "/rubrics", {"source": T2_REWEIGHTED})).json()[
        "version"
    ]
    started = await admin_post(
        env, admin, "/rejudges", {"track": "T2", "rubric_version": new_version[:10]}
    )
    assert started.status_code == 201, started.text
    rejudge_id = started.json()["id"]
    assert started.json()["status"] == "running"
    assert len(env.queue.jobs) == 1  # the in-process window: one rejudge run at a time
    conflict = await admin_post(env, admin, "/rejudges", {"track": "T2"})
    assert conflict.status_code == 409

    await drain(env, limit=1)  # the first submission is rescored, the second not yet
    middle = await admin_get(env, admin, f"/rejudges/{rejudge_id}")
    assert middle["status"] == "running" and middle["progress"]["submissions_done"] == 1
    assert await board_cells(env, Track.T2) == old_board  # only old scores while it runs

    await drain(env)
    final = await admin_get(env, admin, f"/rejudges/{rejudge_id}")
    assert final["status"] == "completed" and final["switched"] is True, final
    assert final["progress"]["judge_calls"] == 0
    assert judge.app.stats.requests == calls_before
    new_board = await board_cells(env, Track.T2)
    assert {v for _, v in new_board.values()} == {new_version}  # only new scores now
    assert new_board["alpha-vlm"][0] != old_board["alpha-vlm"][0]

    diff = await admin_get(env, admin, f"/rejudges/{rejudge_id}/diff")
    entries = {e["submission_id"]: e for e in diff["entries"]}
    assert set(entries) == {first, second}
    for sid, model in ((first, "alpha-vlm"), (second, "beta-vlm")):
        entry = entries[sid]
        assert entry["old_score"] == pytest.approx(old_board[model][0])
        assert entry["new_score"] == pytest.approx(new_board[model][0])
        assert entry["delta"] == pytest.approx(new_board[model][0] - old_board[model][0])
        assert entry["items_changed"] == 0  # the same verdicts, weighted differently
        assert entry["items_compared"] == 10
        assert entry["old_rank"] and entry["new_rank"]
    assert diff["largest_movers"][0] in (first, second)
    assert diff["from_rubric_version"] == old_version and diff["to_rubric_version"] == new_version

    # 3. A reworded prompt: only T2's answered items go to the judge; T4 is untouched.
    reworded = (await admin_post(env, admin, "/rubrics", {"source": T2_REWORDED})).json()["version"]
    third = await admin_post(env, admin, "/rejudges", {"track": "T2", "rubric_version": reworded})
    await drain(env)
    status = await admin_get(env, admin, f"/rejudges/{third.json()['id']}")
    assert status["status"] == "completed" and status["switched"] is True
    assert status["progress"]["judge_calls"] == 9 + 5 == judge.app.stats.requests - calls_before
    assert {v for _, v in (await board_cells(env, Track.T4)).values()} == {
        bundled_rubric(Track.T4).version
    }

    page = await env.client.get(f"/admin/rejudges/{rejudge_id}/diff", headers=auth(admin))
    assert page.status_code == 200 and "alpha-vlm" in page.text and "Largest movers" in page.text


async def test_cancel_and_resume_finish_like_an_uninterrupted_rejudge(env: InProcessApp) -> None:
    admin = await env.token("maintainers", admin=True)
    alpha = await env.token("alpha")
    await scored_submission(env, alpha, Track.T2, "alpha-vlm")
    await scored_submission(env, alpha, Track.T2, "beta-vlm", fewer_answers(Track.T2))
    version = (await admin_post(env, admin, "/rubrics", {"source": T2_REWORDED})).json()["version"]

    started = (
        await admin_post(env, admin, "/rejudges", {"track": "T2", "rubric_version": version})
    ).json()
    cancelled = await admin_post(env, admin, f"/rejudges/{started['id']}/cancel", None)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [r["status"] for r in cancelled.json()["runs"]] == ["cancelled"]
    await drain(env)  # the cancelled run's job finds nothing to do
    assert (await admin_get(env, admin, f"/rejudges/{started['id']}"))["status"] == "cancelled"
    again = await admin_post(env, admin, f"/rejudges/{started['id']}/cancel", None)
    assert again.status_code == 409

    resumed = await admin_post(env, admin, f"/rejudges/{started['id']}/resume", None)
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    await drain(env)
    interrupted = await admin_get(env, admin, f"/rejudges/{started['id']}/diff")

    # The same rejudge again, uninterrupted (the cache answers it: same verdicts by design).
    straight = (
        await admin_post(env, admin, "/rejudges", {"track": "T2", "rubric_version": version})
    ).json()
    await drain(env)
    uninterrupted = await admin_get(env, admin, f"/rejudges/{straight['id']}/diff")
    assert [
        (e["submission_id"], e["new_score"], e["new_dimension_means"])
        for e in interrupted["entries"]
    ] == [
        (e["submission_id"], e["new_score"], e["new_dimension_means"])
        for e in uninterrupted["entries"]
    ]
    events = [e["action"] for e in await admin_get(env, admin, "/audit")]
    assert {"rejudge.start", "rejudge.cancel", "rejudge.resume", "rejudge.switch"} <= set(events)


# No re-asks, so one malformed reply is one judge-error item; runs tolerate it, the rejudge not.
@pytest.mark.parametrize(
    "overrides", [{"judge_max_parse_retries": 0, "judge_error_tolerance": 0.5}]
)
async def test_a_rejudge_with_too_many_judge_errors_does_not_switch(
    env: InProcessApp, judge: StandinThread
) -> None:
    admin = await env.token("maintainers", admin=True)
    alpha = await env.token("alpha")
    await scored_submission(env, alpha, Track.T2, "alpha-vlm")
    old_board = await board_cells(env, Track.T2)
    version = (await admin_post(env, admin, "/rubrics", {"source": T2_REWORDED})).json()["version"]
    judge.app.configure({"script": ["malformed"]})  # the next reply only
    started = await admin_post(
        env,
        admin,
        "/rejudges",
        {"track": "T2", "rubric_version": version, "max_error_share": 0.05},
    )
    await drain(env)
    final = await admin_get(env, admin, f"/rejudges/{started.json()['id']}")
    assert final["status"] == "failed" and final["switched"] is False
    assert "judge errors on 1 of 9 judged items (11.1%) exceed the allowed 5.0%" in final["error"]
    assert await board_cells(env, Track.T2) == old_board


# --- human labels and reliability -----------------------------------------------------------


async def judge_ratings(env: InProcessApp, submission_id: int) -> dict[str, dict[str, int]]:
    async with env.sessions() as session:
        rows = await session.execute(
            select(ItemResult.item_id, ItemResult.ratings)
            .join(EvaluationRun, EvaluationRun.id == ItemResult.run_id)
            .where(EvaluationRun.submission_id == submission_id)
        )
        return {item: dict(ratings) for item, ratings in rows if ratings}


async def test_human_labels_import_and_reliability_per_dimension(env: InProcessApp) -> None:
    admin = await env.token("maintainers", admin=True)
    alpha = await env.token("alpha")
    t2 = await scored_submission(env, alpha, Track.T2, "alpha-vlm")
    dimension = bundled_rubric(Track.T2).dimension_ids[0]
    rated = await judge_ratings(env, t2)
    items = sorted(rated)[:4]
    lines = []
    for item in items:
        value = rated[item][dimension]
        lines.append(
            {"submission_id": t2, "item_id": item, "rater": "ann", "ratings": {dimension: value}}
        )
        # bob disagrees with the judge on the first item only
        bob = 1 - value if item == items[0] else value
        lines.append(
            {"submission_id": t2, "item_id": item, "rater": "bob", "ratings": {dimension: bob}}
        )
    data = "\n".join(json.dumps(line) for line in lines).encode()

    bad = await env.client.post(
        "/api/v1/admin/human-labels",
        files={
            "file": (
                "labels.jsonl",
                data
                + b'\n{"submission_id": 999, "item_id": "x", "rater": "a", "ratings": {"y": 1}}',
                "application/jsonl",
            )
        },
        headers=auth(admin),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [
        "labels.jsonl line 9 (id 'x'): submission 999 does not exist or was rejected"
    ]
    imported = await env.client.post(
        "/api/v1/admin/human-labels",
        files={"file": ("labels.jsonl", data, "application/jsonl")},
        headers=auth(admin),
    )
    assert imported.status_code == 201, imported.text
    assert imported.json() | {"tracks": None} == {
        "labels": 8,
        "created": 8,
        "updated": 0,
        "lines": 8,
        "submissions": 1,
        "raters": ["ann", "bob"],
        "tracks": None,
    }
    (report,) = await admin_get(env, admin, "/reliability?track=T2")
    assert report["labels"] == 8 and report["unmatched"] == 0
    stats = next(d for d in report["dimensions"] if d["dimension"] == dimension)
    judge_values = [rated[i][dimension] for i in items]
    assert stats["items"] == 4 and stats["pairs"] == 8
    assert stats["accuracy"] == pytest.approx(7 / 8)
    assert stats["human_items"] == 4
    assert stats["prevalence"] == pytest.approx(
        (sum(judge_values) + sum(judge_values[1:]) + 1 - judge_values[0]) / 8
    )
    assert stats["weighted"] is False
    others = [d for d in report["dimensions"] if d["dimension"] != dimension]
    assert all(d["items"] == 0 and d["kappa"] is None for d in others)

    page = await env.client.get("/admin/reliability?track=T2", headers=auth(admin))
    assert page.status_code == 200 and dimension in page.text
    async with env.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "human_labels.import")
        )
    assert event is not None and event.details["labels"] == 8


# --- pages ----------------------------------------------------------------------------------


async def test_pages_sign_in_with_a_cookie_and_forms_need_the_csrf_token(env: InProcessApp) -> None:
    admin = await env.token("maintainers", admin=True)
    team = await env.token("alpha")
    client = env.client
    first = await client.get("/admin")
    assert first.status_code == 303 and first.headers["location"] == "/admin/login"
    assert (await client.get("/admin/login")).status_code == 200
    refused = await client.post("/admin/login", data={"token": team})
    assert refused.status_code == 401 and "not an admin token" in refused.text

    signed_in = await client.post("/admin/login", data={"token": admin})
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    try:
        page = await client.get("/admin")
        assert page.status_code == 200 and "Start a rejudge" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        no_csrf = await client.post("/admin/rejudges", data={"track": "T3"})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        started = await client.post("/admin/rejudges", data={"track": "T3", "csrf": csrf})
        assert started.status_code == 303, started.text
        location = started.headers["location"]
        rejudge_page = await client.get(location)
        assert rejudge_page.status_code == 200
        assert "completed" in rejudge_page.text  # no T3 submissions: done at once
        # A running rejudge can be cancelled from its page, then resumed.
        await scored_submission(env, team, Track.T2, "alpha-vlm")
        running = await client.post("/admin/rejudges", data={"track": "T2", "csrf": csrf})
        page = await client.get(running.headers["location"])
        assert "running" in page.text and 'http-equiv="refresh"' in page.text
        assert "Submissions 0 / 1 done" in page.text
        cancel = await client.post(f"{running.headers['location']}/cancel", data={"csrf": csrf})
        assert cancel.status_code == 303
        page = await client.get(running.headers["location"])
        assert "cancelled" in page.text and "Resume" in page.text
        audit = await client.get("/admin/audit")
        assert audit.status_code == 200
        assert "rejudge.start" in audit.text and "maintainers (" in audit.text
        assert "rejudge.cancel" in audit.text
    finally:
        client.cookies.clear()


async def test_a_submission_that_raced_past_the_switch_gets_a_run_under_the_new_pair(
    env: InProcessApp, settings: Settings
) -> None:

    from app.services.rejudge import tick

    admin = await env.token("maintainers", admin=True)
    alpha = await env.token("alpha")
    await scored_submission(env, alpha, Track.T2, "alpha-vlm")
    version = (await admin_post(env, admin, "/rubrics", {"source": T2_REWEIGHTED})).json()[
        "version"
    ]
    rejudge = await admin_post(env, admin, "/rejudges", {"track": "T2", "rubric_version": version})
    await drain(env)
    assert (await admin_get(env, admin, f"/rejudges/{rejudge.json()['id']}"))["switched"] is True

    # An upload that read the old active pair and committed just after the switch.
    late = await scored_submission(env, alpha, Track.T2, "late-vlm", fewer_answers(Track.T2))
    async with env.sessions() as session:
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.submission_id == late)
            .values(rubric_version=bundled_rubric(Track.T2).version)
        )
        await session.commit()
    assert "late-vlm" not in await board_cells(env, Track.T2)
    jobs = await tick(env.app.state.runtime)
    assert len(jobs) == 1
    await drain(env)
    assert (await board_cells(env, Track.T2))["late-vlm"][1] == version
    assert await tick(env.app.state.runtime) == []  # done once


async def test_public_judge_page_with_and_without_human_labels(env: InProcessApp) -> None:
    admin = await env.token("maintainers", admin=True)
    alpha = await env.token("alpha")
    t4 = await scored_submission(env, alpha, Track.T4, "alpha-vlm")
    async with env.sessions() as session:
        run = await session.scalar(select(EvaluationRun).where(EvaluationRun.submission_id == t4))
    assert run is not None and run.judge_sampling is not None  # recorded at judge start
    assert set(run.judge_sampling) == {"temperature", "seed", "max_tokens"}
    before = (await env.client.get("/api/v1/analysis/judge")).json()
    t4_before = next(t for t in before["tracks"] if t["track"] == "T4")
    assert t4_before["agreement"] is None and t4_before["agreement_note"] == "no human labels yet"
    assert t4_before["runs"] == 1
    (rate,) = t4_before["rates"]
    async with env.sessions() as session:
        aggregate = await session.get(RunAggregate, run.id)
        assert aggregate is not None
        # The run's running counter counts an item again each time it is retried; the page
        # counts the items left in error when the run was scored.
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run.id)
            .values(judge_errors=EvaluationRun.judge_errors + 5)
        )
        await session.commit()
    recount = (await env.client.get("/api/v1/analysis/judge")).json()
    (rate_after_retries,) = next(t for t in recount["tracks"] if t["track"] == "T4")["rates"]
    assert rate["key"] == "judge_error_rate" and rate["count"] == aggregate.judge_error_count
    assert rate_after_retries["count"] == aggregate.judge_error_count
    assert rate["items"] > 0 and rate["value"] == pytest.approx(rate["count"] / rate["items"])

    dimension = bundled_rubric(Track.T4).dimension_ids[0]
    rated = await judge_ratings(env, t4)
    items = sorted(rated)[:3]
    lines = [
        {"submission_id": t4, "item_id": i, "rater": r, "ratings": {dimension: rated[i][dimension]}}
        for i in items
        for r in ("ann", "bob")
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    imported = await env.client.post(
        "/api/v1/admin/human-labels",
        files={"file": ("labels.jsonl", data, "application/jsonl")},
        headers=auth(admin),
    )
    assert imported.status_code == 201, imported.text
    after = (await env.client.get("/api/v1/analysis/judge")).json()
    html = (await env.client.get("/analysis/judge")).text
    tracks = {t["track"]: t for t in after["tracks"]}
    agreement = {d["dimension"]: d for d in tracks["T4"]["agreement"]}
    assert agreement[dimension]["accuracy"] == 1.0 and agreement[dimension]["pairs"] == 6
    assert agreement[dimension]["statistic"] == "quadratic-weighted kappa"  # T4 is ordinal 0–2
    assert agreement[dimension]["human_items"] == 3
    assert tracks["T4"]["agreement_note"] is None
    assert tracks["T2"]["agreement"] is None and tracks["T2"]["runs"] == 0
    assert tracks["T2"]["rates"][0]["value"] is None  # nothing judged on T2
    assert 'id="judge-T4"' in html and f'data-dimension="{dimension}"' in html
    assert html.count("Agreement with humans: no human labels yet.") == 3  # T1–T3
    assert 'data-rate="judge_error_rate"' in html and "127.0.0.1" not in html


async def test_public_judge_page_shows_the_t1_inconsistency_rate(env: InProcessApp) -> None:
    alpha = await env.token("alpha")
    t1 = await scored_submission(env, alpha, Track.T1, "alpha-vlm")
    async with env.sessions() as session:
        # Three items of the scored run said exact diagnosis YES but right category NO.
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.submission_id == t1)
            .values(judge_inconsistencies=3)
        )
        await session.commit()
    body = (await env.client.get("/api/v1/analysis/judge")).json()
    tracks = {t["track"]: t for t in body["tracks"]}
    rates = {r["key"]: r for r in tracks["T1"]["rates"]}
    inconsistency = rates["judge_inconsistency_rate"]
    assert inconsistency["count"] == 3 and inconsistency["items"] > 0
    assert inconsistency["value"] == pytest.approx(3 / inconsistency["items"])
    assert "exact diagnosis YES but right category NO" in inconsistency["definition"]
    for other in ("T2", "T3", "T4"):  # no pair of verdicts to contradict each other
        assert [r["key"] for r in tracks[other]["rates"]] == ["judge_error_rate"]
    html = (await env.client.get("/analysis/judge")).text
    assert html.count('data-rate="judge_inconsistency_rate"') == 1
    assert "Judge-inconsistency rate" in html


async def test_the_tracks_table_names_the_active_judge_and_rubric_notes_are_shown(
    env: InProcessApp,
) -> None:
    admin = await env.token("maintainers", admin=True)
    note = "T2: reweighted safety <and> reworded follow-up"
    loaded = await admin_post(env, admin, "/rubrics", {"source": T2_REWORDED, "note": note})
    assert loaded.status_code == 201 and loaded.json()["note"] == note
    listed = await admin_get(env, admin, "/rubrics?track=T2")
    assert {r["note"] for r in listed} == {note, None}
    too_long = await admin_post(
        env, admin, "/rubrics", {"source": T2_REWEIGHTED, "note": "x" * 2001}
    )
    assert too_long.status_code == 422

    page = await env.client.get("/admin", headers=auth(admin))
    assert page.status_code == 200
    assert "T2: reweighted safety &lt;and&gt; reworded follow-up" in page.text
    tracks = page.text.split("<h2>Tracks</h2>", 1)[1].split("</table>", 1)[0]
    assert '<table class="text-left">' in tracks and "<th>Active judge</th>" in tracks
    assert (
        tracks.count('<td class="judge">mmrare-reference-judge-v1<span class="badge reference"')
        == 4
    )
    audit = await admin_get(env, admin, "/audit")
    load = next(e for e in audit if e["action"] == "rubric.load")
    assert load["details"]["note"] == note
    assert {"team.create", "token.create"} <= {e["action"] for e in audit}
