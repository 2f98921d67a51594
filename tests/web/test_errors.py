"""One error format: every error of the JSON API is `{"error": {...}}` (ErrorBody) and OpenAPI
declares it for every error status; HTML paths answer the error page in the site's layout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from app.config import Settings
from app.web.api.schemas.errors import ErrorBody
from app.web.app import create_app
from tests.integration.helpers import (
    InProcessApp,
    auth,
    in_process_app,
    sqlite_template,
    web_settings,
)

ERROR_REF = "#/components/schemas/ErrorBody"


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


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def expected_errors(path: str, op: dict[str, Any]) -> set[str]:
    """What an operation can answer besides success, read from its own declaration: inputs can
    be refused (422), a path names something that may not exist (404), a token can be
    unknown (401), and an admin route refuses a team's token (403)."""
    params = {p["in"] for p in op.get("parameters", [])}
    expected = set()
    if params or "requestBody" in op:
        expected.add("422")
    if "path" in params:
        expected.add("404")
    if op.get("security"):
        expected.add("401")
    if path.startswith("/api/v1/admin/"):
        expected.add("403")
    return expected


def test_every_operation_documents_its_error_statuses_with_the_one_error_body(
    settings: Settings,
) -> None:
    spec = create_app(settings).openapi()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error"]
    ops = operations(spec)
    assert len(ops) > 30  # the walk really reads the app's operations
    for method, path, op in ops:
        responses = op["responses"]
        errors = {status for status in responses if status[0] in "45"}
        missing = expected_errors(path, op) - errors
        assert not missing, f"{method} {path} does not document {sorted(missing)}"
        if path == "/readyz":  # its 503 is the probe's report (Readiness), not a request error
            continue
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, f"{method} {path} {status}: {schema}"


def assert_error_body(body: dict[str, Any], kind: str, fragment: str) -> dict[str, Any]:
    info: dict[str, Any] = ErrorBody.model_validate(body).model_dump()["error"]
    assert set(body) == {"error"} and set(body["error"]) == set(info)
    assert info["type"] == kind and fragment in info["message"], info
    return info


async def test_every_kind_of_api_error_has_the_same_shape(env: InProcessApp) -> None:
    bad_page = await env.client.get("/api/v1/leaderboard", params={"page": "abc"})
    assert bad_page.status_code == 422
    info = assert_error_body(bad_page.json(), "RequestValidationError", "query parameter 'page'")
    assert info["fields"][0]["loc"] == ["query", "page"] and "integer" in info["message"]

    bad_sort = await env.client.get("/api/v1/leaderboard", params={"sort": "nope"})
    assert bad_sort.status_code == 422
    assert_error_body(bad_sort.json(), "InvalidInput", "sort must be one of")

    unknown = await env.client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert_error_body(unknown.json(), "NotFound", "there is nothing at /api/v1/no-such-thing")

    wrong_method = await env.client.delete("/api/v1/leaderboard")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert_error_body(wrong_method.json(), "MethodNotAllowed", "DELETE is not allowed")

    no_token = await env.client.get("/api/v1/quota")
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    assert_error_body(no_token.json(), "Unauthorized", "needs an API token")


async def test_a_refused_body_field_is_named_and_a_lone_surrogate_stays_a_422(
    env: InProcessApp,
) -> None:
    headers = {"content-type": "application/json", **auth(await env.token("alpha"))}
    extra = await env.client.post("/api/v1/models", json={"name": "m", "bogus": 1}, headers=headers)
    assert extra.status_code == 422, extra.text
    info = assert_error_body(extra.json(), "RequestValidationError", "body field 'bogus'")
    assert info["fields"] == [
        {"loc": ["body", "bogus"], "where": "body field 'bogus'", "message": ANY}
    ]
    odd = await env.client.post(
        "/api/v1/models", content=b'{"name": "m", "\\ud800": 1}', headers=headers
    )
    assert odd.status_code == 422, odd.text
    assert_error_body(odd.json(), "RequestValidationError", "the request body")
    broken = await env.client.post("/api/v1/models", content=b'{"name": ', headers=headers)
    assert broken.status_code == 422
    assert_error_body(broken.json(), "RequestValidationError", "JSON")


async def test_html_paths_answer_the_error_page_in_the_site_layout(env: InProcessApp) -> None:
    for path, status, fragment in (
        ("/no-such-page", 404, "there is nothing at /no-such-page"),
        ("/?page=abc", 422, "query parameter &#39;page&#39;"),
        ("/tracks/T9", 404, "T9"),
        ("/static/no-such.css", 404, "there is nothing at /static/no-such.css"),
    ):
        page = await env.client.get(path)
        assert page.status_code == status, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "<header>" in page.text and 'href="/"' in page.text  # the site's layout
        assert fragment in page.text, (path, page.text)
        assert "Back to the leaderboard" in page.text
    wrong_method = await env.client.delete("/")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    assert "DELETE is not allowed at /" in wrong_method.text
