"""/docs in a real browser, offline and under the site's Content-Security-Policy: headless
Chromium runs Swagger UI from the files the app serves and renders every API operation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.browser.test_pages_browser import chromium, run_chromium
from tests.integration.helpers import serve, sqlite_template, web_settings

pytestmark = pytest.mark.browser

__all__ = ["chromium"]  # the fixture, shared with the page tests


@pytest.fixture
def docs_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "template").mkdir()
    settings: Settings = web_settings(sqlite_template(tmp_path / "template"), tmp_path)
    with serve(settings) as url:
        yield f"{url}/docs"


def test_swagger_ui_renders_every_operation_under_the_csp(
    chromium: str, docs_url: str, tmp_path: Path
) -> None:
    # Virtual time lets the page fetch /openapi.json and render before the DOM is dumped.
    dom = run_chromium(
        chromium, tmp_path / "profile", "--virtual-time-budget=15000", "--dump-dom", docs_url
    )
    paths = set(re.findall(r'data-path="([^"]+)"', dom))
    assert {"/api/v1/submissions", "/api/v1/leaderboard", "/api/v1/admin/audit"} <= paths
    assert "Unable to render this definition" not in dom and "Failed to load" not in dom
