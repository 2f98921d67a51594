"""The upload form as a participant uses it: after an error its fields come back filled in
(never the token), the team's quota shows once a token is entered (a POST, never a URL), and
the page links the format rules and each track's kit with its prediction template."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.tracks import Track
from app.web import csrf
from tests.integration.helpers import (
    InProcessApp,
    demo_predictions,
    in_process_app,
    kit_settings,
    sqlite_template,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
async def env(template: Path, tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(kit_settings(template, tmp_path, submissions_per_day=4)) as env:
        yield env


async def csrf_value(env: InProcessApp) -> str:
    page = await env.client.get("/submit")
    match = re.search(rf'name="{csrf.FIELD_NAME}" value="([^"]+)"', page.text)
    assert match
    return html.unescape(match.group(1))


FIELDS = {
    "model": "Rare <VLM> 7B",
    "track": "T2",
    "organisation": "Rare Lab",
    "open_weights": "true",
    "category": "medical",
    "parameter_count": "7000000000",
    "url": "https://example.org/model",
    "description": "a test model",
}


async def test_fields_are_kept_after_an_error_but_never_the_token(env: InProcessApp) -> None:
    token = await env.token("alpha")
    fields = {csrf.FIELD_NAME: await csrf_value(env), "token": token, **FIELDS}
    bad = b'{"id": "t2-9999", "prediction": "x"}\n'
    rejected = await env.client.post(
        "/submit", data=fields, files={"file": ("p.jsonl", bad, "application/jsonl")}
    )
    assert rejected.status_code == 422
    page = rejected.text
    assert 'value="Rare &lt;VLM&gt; 7B"' in page
    assert '<option value="T2" selected>' in page
    assert 'value="Rare Lab"' in page and 'value="7000000000"' in page
    assert 'name="open_weights" value="true" checked' in page
    assert '<option value="medical" selected>' in page
    assert ">a test model</textarea>" in page
    assert token not in page

    fields["parameter_count"] = "seven"  # refused before the file is looked at
    refused = await env.client.post(
        "/submit",
        data=fields,
        files={"file": ("p.jsonl", demo_predictions(Track.T2), "application/jsonl")},
    )
    assert refused.status_code == 422 and "must be a whole number" in refused.text
    assert 'value="Rare &lt;VLM&gt; 7B"' in refused.text and token not in refused.text


async def test_the_quota_shows_once_a_token_is_entered(env: InProcessApp) -> None:
    token = await env.token("alpha")
    await env.upload(token, demo_predictions(Track.T1))
    before = await env.client.get("/submit")
    assert "Show my quota" in before.text and "Team <strong>" not in before.text
    shown = await env.client.post(
        "/submit/quota", data={csrf.FIELD_NAME: await csrf_value(env), "token": token}
    )
    assert shown.status_code == 200
    assert "Team <strong>alpha</strong>: at most 4 accepted submissions per track" in shown.text
    assert "<td>T1</td><td>Diagnosis</td><td>1 / 4</td><td>3</td>" in shown.text
    assert token not in shown.text and token not in str(shown.url)
    wrong = await env.client.post(
        "/submit/quota", data={csrf.FIELD_NAME: await csrf_value(env), "token": "nope"}
    )
    assert wrong.status_code == 401
    env.client.cookies.clear()
    forged = await env.client.post("/submit/quota", data={"token": token})
    assert forged.status_code == 403


async def test_the_form_links_the_format_and_every_tracks_kit(env: InProcessApp) -> None:
    page = (await env.client.get("/submit")).text
    assert '<a href="/about#format">' in page
    for track in Track:
        link = f'<a href="/api/v1/tracks/{track.value}/inputs" download>{track.value} kit</a>'
        assert link in page
        kit = await env.client.get(f"/api/v1/tracks/{track.value}/inputs")
        assert kit.status_code == 200 and kit.headers["content-type"] == "application/zip"
    board = (await env.client.get("/tracks/T3")).text
    assert '<a href="/api/v1/tracks/T3/inputs" download>' in board
