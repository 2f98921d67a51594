"""Every route that changes something checks who is asking: a table-driven test over the app's
routes, so a new route without a check fails here.

1. Without a token, every non-GET/HEAD route answers 401 — except the tiny allow-list below,
   whose routes must refuse the request in their own way (the HTML upload form: 403 without
   its CSRF token).
2. With another team's (non-admin) token, every such route that names a resource in its path
   refuses to touch team alpha's resources (403, or 404 for what it may not even see).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from app.config import Settings
from app.tracks import Track
from tests.integration.helpers import (
    InProcessApp,
    auth,
    demo_predictions,
    in_process_app,
    sqlite_template,
    web_settings,
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# Mutating routes that do not take a bearer token, and what they answer without one. Keep it
# tiny: each entry needs another protection, asserted here.
ALLOW_WITHOUT_TOKEN = {
    ("POST", "/submit"): 403,  # HTML form: CSRF double-submit, then the form's token field
    # A status page's action form: the same double-submit, then the form's token field.
    ("POST", "/submissions/{submission_id}/action"): 403,
    ("POST", "/submit/quota"): 403,  # the upload page's quota check: the same protection
}

# Path parameters filled with team alpha's resources for the ownership check.
ALPHA_RESOURCES = {"submission_id": "1", "name": "alpha-vlm"}
# A body for routes that need one (so validation cannot answer before the check does).
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("PATCH", "/api/v1/models/{name:path}"): {"description": "taken over"},
}


def mutating_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route (included routers flattened) that may change data."""
    for route in iter_route_contexts(app.routes):
        if route.path and route.methods:
            for method in sorted(route.methods - SAFE_METHODS):
                yield method, route.path


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


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


async def test_every_mutating_route_needs_a_token(env: InProcessApp) -> None:
    routes = list(mutating_routes(env.app))
    assert ("POST", "/api/v1/submissions") in routes  # the table is really read from the app
    assert set(ALLOW_WITHOUT_TOKEN) <= set(routes), "stale allow-list entry"
    answered = {}
    for method, path in routes:
        response = await env.client.request(method, fill(path, {}), json={})
        answered[(method, path)] = response.status_code
    expected = {route: ALLOW_WITHOUT_TOKEN.get(route, 401) for route in answered}
    assert answered == expected


async def test_no_mutating_route_lets_another_team_touch_a_teams_resources(
    env: InProcessApp,
) -> None:
    alpha, beta = await env.token("alpha"), await env.token("beta")
    upload = await env.upload(alpha, demo_predictions(Track.T1), model="alpha-vlm")
    assert upload.status_code == 201 and upload.json()["id"] == 1
    routes = [
        (method, path)
        for method, path in mutating_routes(env.app)
        if "{" in path and (method, path) not in ALLOW_WITHOUT_TOKEN
    ]
    assert ("POST", "/api/v1/submissions/{submission_id}/cancel") in routes
    answered = {}
    for method, path in routes:
        response = await env.client.request(
            method,
            fill(path, ALPHA_RESOURCES),
            json=BODIES.get((method, path), {}),
            headers=auth(beta),
        )
        answered[(method, path)] = response.status_code
    refused = {route: code for route, code in answered.items() if code in (403, 404)}
    assert refused == answered, "routes that did not refuse another team's token"
    # Published, the submission is visible to all but still not theirs to change.
    assert (await env.client.post("/api/v1/submissions/1/publish", headers=auth(alpha))).is_success
    cancel = await env.client.post("/api/v1/submissions/1/cancel", headers=auth(beta))
    assert cancel.status_code == 403
    status = await env.client.get("/api/v1/submissions/1")
    assert status.json()["status"] == "queued"  # nothing was changed by the attempts


async def test_every_maintainer_route_refuses_a_team_token(env: InProcessApp) -> None:
    """Maintainer routes — every route under /api/v1/admin and every mutating /admin page —
    answer 403 to a valid non-admin token, whatever the body (the check comes first)."""
    team = await env.token("alpha")
    routes = [
        (method, path)
        for method, path in mutating_routes(env.app)
        if path.startswith(("/api/v1/admin", "/admin")) and path != "/admin/login"
    ]
    routes += [
        ("GET", route.path)
        for route in iter_route_contexts(env.app.routes)
        if route.path and route.path.startswith("/api/v1/admin") and "GET" in (route.methods or ())
    ]
    assert ("POST", "/api/v1/admin/rejudges") in routes  # the table is really read from the app
    answered = {}
    for method, path in routes:
        response = await env.client.request(method, fill(path, {}), json={}, headers=auth(team))
        answered[(method, path)] = response.status_code
    assert answered == {route: 403 for route in answered}
