"""The HTML side: the upload form (CSRF double-submit, token field, quota) and the status page
(progress, queue position, ETA, self-refresh, privacy, no gold)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from app.config import Settings
from app.db.base import utcnow
from app.db.models import EvaluationRun, ItemResult, RunAggregate
from app.runs import RunStatus
from app.tracks import Track
from app.web import csrf
from app.web.pages.submissions import duration
from tests.integration.helpers import (
    InProcessApp,
    assert_no_gold,
    auth,
    demo_predictions,
    in_process_app,
    sqlite_template,
    web_settings,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def settings(template: Path, tmp_path: Path) -> Settings:
    return web_settings(template, tmp_path, submissions_per_day=2)


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


def hidden_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient,
    fields: dict[str, str],
    data: bytes | None = None,
    *,
    cookies: dict[str, str] | None = None,
) -> httpx.Response:
    files = {"file": ("p.jsonl", data or demo_predictions(Track.T1), "application/jsonl")}
    if cookies is not None:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value, path="/submit")
    return await client.post("/submit", data=fields, files=files)


async def test_the_form_sets_a_signed_cookie_and_the_same_hidden_field(
    env: InProcessApp, settings: Settings
) -> None:
    page = await env.client.get("/submit")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{csrf.COOKIE_NAME}=")
    for attribute in ("HttpOnly", "Path=/submit", "SameSite=strict"):
        assert attribute in cookie
    token = hidden_token(page.text)
    assert env.client.cookies[csrf.COOKIE_NAME] == token
    assert csrf.is_valid(settings.resolve_keys().form_key, token)
    again = await env.client.get("/submit")
    assert hidden_token(again.text) == token  # the same browser keeps its token (other tabs)
    assert 'type="password" name="token"' in page.text
    assert "Each team may have 2 accepted submissions per track" in page.text


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no cookie", "this form needs its security cookie, which is missing"),
        ("forged cookie", "the form's security cookie was not issued by this server"),
        ("no field", "the form has no 'csrf_token' field"),
        ("other field", "the form's security token does not match this browser's cookie"),
    ],
)
async def test_a_post_without_a_matching_csrf_token_gets_a_403_page(
    env: InProcessApp, settings: Settings, case: str, message: str
) -> None:
    token = await env.token("alpha")
    good = csrf.new_token(settings.resolve_keys().form_key)
    fields = {"token": token, "model": "m", "track": "T1"}
    cookies: dict[str, str] = {csrf.COOKIE_NAME: good}
    if case == "no cookie":
        cookies = {}
        fields["csrf_token"] = good
    elif case == "forged cookie":
        forged = "nonce." + "0" * 64
        cookies = {csrf.COOKIE_NAME: forged}
        fields["csrf_token"] = forged
    elif case == "other field":
        fields["csrf_token"] = csrf.new_token(settings.resolve_keys().form_key)
    response = await post_form(env.client, fields, cookies=cookies)
    assert response.status_code == 403
    assert "<h2>Error 403</h2>" in response.text and message in html.unescape(response.text)
    assert env.queue.jobs == []


async def test_the_form_needs_a_valid_team_token(env: InProcessApp) -> None:
    csrf_token = hidden_token((await env.client.get("/submit")).text)
    missing = await post_form(env.client, {"csrf_token": csrf_token, "model": "m", "track": "T1"})
    assert missing.status_code == 401 and "enter your team&#39;s API token" in missing.text
    unknown = await post_form(
        env.client, {"csrf_token": csrf_token, "token": "mmr_nope", "model": "m", "track": "T1"}
    )
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.text


async def test_an_upload_through_the_form_shows_its_status_link_and_the_quota(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    csrf_token = hidden_token((await env.client.get("/submit")).text)
    fields = {"csrf_token": csrf_token, "token": token, "model": "form-vlm", "track": "T1"}
    response = await post_form(env.client, fields)
    assert response.status_code == 201, response.text
    link = re.search(r'href="(/submissions/1\?key=[0-9a-f]{32})"', response.text)
    assert link, response.text
    assert "<td>T1</td><td>Diagnosis</td><td>1 / 2</td><td>1</td>" in response.text
    assert len(env.queue.jobs) == 1
    status = await env.client.get(link.group(1))
    assert status.status_code == 200 and "form-vlm on T1" in status.text
    assert (await env.client.get("/submissions/1")).status_code == 404  # private without key

    bad = await post_form(env.client, fields, b'{"id": "t9-9999", "prediction": "x"}\n')
    assert bad.status_code == 422
    assert "p.jsonl line 1 (id &#39;t9-9999&#39;): unknown id" in bad.text

    second = await post_form(env.client, fields, b'{"id": "t1-0002", "prediction": "y"}\n')
    assert second.status_code == 201
    over = await post_form(env.client, fields, b'{"id": "t1-0003", "prediction": "z"}\n')
    assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
    assert "Not submitted:</strong> team &#39;alpha&#39; has used its 2 submissions" in over.text
    assert "<td>T1</td><td>Diagnosis</td><td>2 / 2</td><td>0</td>" in over.text


async def test_the_status_page_shows_progress_queue_position_and_an_eta(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    first = (await env.upload(token, demo_predictions(Track.T1))).json()
    second = (await env.upload(token, demo_predictions(Track.T2), track=Track.T2)).json()
    queued = await env.client.get(second["status_url"])
    assert '<meta http-equiv="refresh" content="3">' in queued.text
    assert "position 2 in the queue" in queued.text
    assert 'aria-valuenow="0"' in queued.text

    # This attempt started 4 min ago and judged 3 items; an earlier attempt had stored 2, and
    # one unanswered item was written at once (no judge call). The pace is this attempt's
    # judged items: 4 min / 3 for each of the 6 items left, 8 min, not 4 min / 6 × 6.
    started = utcnow() - timedelta(minutes=4)
    run_id = env.queue.jobs[0][0]
    stored = {
        "t1-0001": (started - timedelta(hours=1), False),
        "t1-0002": (started - timedelta(hours=1), False),
        "t1-0003": (started, True),
        "t1-0004": (started + timedelta(minutes=1), False),
        "t1-0005": (started + timedelta(minutes=2), False),
        "t1-0006": (started + timedelta(minutes=3), False),
    }
    async with env.sessions() as session:
        await session.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status=RunStatus.JUDGING.value, started_at=started, items_done=6)
        )
        session.add_all(
            ItemResult(run_id=run_id, item_id=item, item_score=0.5, missing=missing, updated_at=at)
            for item, (at, missing) in stored.items()
        )
        await session.commit()
    judging = await env.client.get(first["status_url"])
    assert "judging" in judging.text and "about 8 min left" in judging.text
    assert '<span style="width: 50%">' in judging.text
    api = (await env.client.get(f"/api/v1/submissions/{first['id']}", headers=auth(token))).json()
    # 2 × the time since `started`: at least 8 min, and no more than it was when the answer came.
    latest = 2 * (utcnow() - started).total_seconds()
    assert 480 - 1 <= api["progress"]["eta_seconds"] <= latest + 1


async def test_a_scored_submission_shows_aggregates_and_nothing_about_gold_items(
    env: InProcessApp,
) -> None:
    token = await env.token("alpha")
    sub = (await env.upload(token, demo_predictions(Track.T1))).json()
    async with env.sessions() as session:
        run = await session.get(EvaluationRun, env.queue.jobs[0][0])
        assert run is not None
        run.status, run.items_done, run.started_at = RunStatus.SCORED.value, 12, utcnow()
        session.add(
            RunAggregate(
                run_id=run.id,
                score=50.0,
                f1=62.9,
                dimension_means={"diagnosis": 50.0},
                ci_low=30.0,
                ci_high=70.0,
                item_count=12,
                answered_count=11,
                judge_error_count=0,
            )
        )
        await session.commit()
    page = await env.client.get(sub["status_url"])
    assert (
        "Track score <strong>50.0</strong>" in page.text
        and "T1 F1 <strong>62.9</strong>" in page.text
    )
    assert 'http-equiv="refresh"' not in page.text  # finished: no more refreshing
    status = await env.client.get(f"/api/v1/submissions/{sub['id']}", headers=auth(token))
    for text in (page.text, status.text):
        assert_no_gold(text)


def test_eta_wording() -> None:
    assert duration(None) is None
    assert duration(20) == "under a minute"
    assert duration(600) == "about 10 min"
    assert duration(3 * 3600) == "about 3.0 h"
