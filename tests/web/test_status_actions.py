"""The status page lets the owner act: publish, cancel and re-queue buttons lead to a
CSRF-protected form that takes the team's token, and the page then says what changed. Each
button shows the same command for a shell. A rejected submission shows only its errors."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db.models import EvaluationRun
from app.runs import RunStatus
from app.tracks import Track
from app.web import csrf
from tests.integration.helpers import (
    InProcessApp,
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
async def env(template: Path, tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(web_settings(template, tmp_path)) as env:
        yield env


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


async def press(
    client: httpx.AsyncClient, status_page: str, verb: str, token: str
) -> httpx.Response:
    """Click the button of `verb` on a status page, then send its form with `token`."""
    form = re.search(
        rf'<form method="get" action="([^"]+)"><input type="hidden" name="do" value="{verb}">'
        r'(?:<input type="hidden" name="key" value="([^"]+)">)?',
        status_page,
    )
    assert form, f"no {verb} button"
    params = {"do": verb, **({"key": html.unescape(form.group(2))} if form.group(2) else {})}
    confirm = await client.get(html.unescape(form.group(1)), params=params)
    assert confirm.status_code == 200, confirm.text
    assert f"mmrare submission {verb} " in confirm.text
    fields = {
        name: hidden(confirm.text, name)
        for name in (csrf.FIELD_NAME, "do", "key")
        if name in confirm.text
    }
    action = re.search(r'<form method="post" action="([^"]+)"', confirm.text)
    assert action
    return await client.post(action.group(1), data={**fields, "token": token})


async def run_status(env: InProcessApp, submission_id: int) -> RunStatus:
    async with env.sessions() as session:
        run = await session.scalar(
            select(EvaluationRun).where(EvaluationRun.submission_id == submission_id)
        )
        assert run is not None
        return run.status


async def test_cancel_requeue_and_publish_from_the_status_page(env: InProcessApp) -> None:
    token = await env.token("alpha")
    upload = (await env.upload(token, demo_predictions(Track.T1))).json()
    sid = upload["id"]
    page = (await env.client.get(upload["status_url"])).text
    assert "Publish…" in page and "Cancel…" in page and "Re-queue…" not in page
    assert f"<code>mmrare submission publish {sid}</code>" in page
    assert f"<code>mmrare submission cancel {sid}</code>" in page

    cancelled = await press(env.client, page, "cancel", token)
    assert cancelled.status_code == 303
    assert cancelled.headers["location"].endswith("&done=cancel")
    page = (await env.client.get(cancelled.headers["location"])).text
    assert "<strong>Cancelled.</strong>" in page and await run_status(env, sid) == "cancelled"
    assert "Re-queue…" in page and "Cancel…" not in page

    jobs_before = len(env.queue.jobs)
    requeued = await press(env.client, page, "requeue", token)
    assert requeued.status_code == 303
    page = (await env.client.get(requeued.headers["location"])).text
    assert "<strong>Re-queued.</strong>" in page and await run_status(env, sid) == "queued"
    assert len(env.queue.jobs) == jobs_before + 1  # enqueued after the form's commit

    published = await press(env.client, page, "publish", token)
    page = (await env.client.get(published.headers["location"])).text
    assert "<strong>Published.</strong>" in page and "Unpublish…" in page
    status = (await env.client.get(f"/api/v1/submissions/{sid}", headers=auth(token))).json()
    assert status["published"] is True


async def test_the_forms_refuse_without_csrf_token_or_ownership(env: InProcessApp) -> None:
    token, other = await env.token("alpha"), await env.token("beta")
    upload = (await env.upload(token, demo_predictions(Track.T1))).json()
    sid = upload["id"]
    page = (await env.client.get(upload["status_url"])).text

    bare = httpx.AsyncClient(transport=env.client._transport, base_url="http://testserver")
    async with bare:  # no cookie: refused before the body is read
        no_cookie = await bare.post(
            f"/submissions/{sid}/action", data={"do": "cancel", "token": token}
        )
    assert no_cookie.status_code == 403
    wrong = await press(env.client, page, "cancel", "not-a-token")
    assert wrong.status_code == 401
    not_theirs = await press(env.client, page, "cancel", other)
    assert not_theirs.status_code == 404 and "Not cancelled:" in not_theirs.text
    assert await run_status(env, sid) == "queued"  # nothing changed

    assert (await env.client.get(f"/submissions/{sid}/action?do=explode")).status_code == 404
    stranger = await env.client.get(f"/submissions/{sid}")
    assert stranger.status_code == 404  # private: no page, no buttons


async def test_a_published_submission_shows_no_buttons_to_visitors(env: InProcessApp) -> None:
    token = await env.token("alpha")
    upload = (await env.upload(token, demo_predictions(Track.T1))).json()
    assert (
        await env.client.post(f"/api/v1/submissions/{upload['id']}/publish", headers=auth(token))
    ).status_code == 200
    visitor = await env.client.get(f"/submissions/{upload['id']}")
    assert visitor.status_code == 200 and 'aria-label="Actions"' not in visitor.text
    owner = await env.client.get(upload["status_url"])
    assert "Unpublish…" in owner.text


async def test_a_rejected_submission_shows_only_its_errors(env: InProcessApp) -> None:
    token = await env.token("alpha")
    rejected = await env.upload(token, b'{"id": "nope", "prediction": "x"}\n')
    assert rejected.status_code == 422
    status_url = rejected.json()["status_url"]
    page = (await env.client.get(status_url)).text
    assert "Rejected: 1 error(s)" in page and "unknown id" in page.lower()
    for absent in ("coverage", "private", "Status:", "progressbar", "Actions", "Judge:"):
        assert absent not in page, absent
