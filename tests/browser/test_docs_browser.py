"""/docs in a real browser, offline and under the site's Content-Security-Policy: headless
Chromium runs Swagger UI from the files the app serves and renders every API operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.browser.cdp import Page, browser
from tests.integration.helpers import serve, sqlite_template, web_settings
from tests.support import wait_until

pytestmark = pytest.mark.browser

RENDERED_PATHS = (
    "[...document.querySelectorAll('[data-path]')].map(e => e.getAttribute('data-path'))"
)


@pytest.fixture
def docs_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "template").mkdir()
    settings: Settings = web_settings(sqlite_template(tmp_path / "template"), tmp_path)
    with serve(settings) as url:
        yield f"{url}/docs"


def test_swagger_ui_renders_every_operation_under_the_csp(
    chromium: str, docs_url: str, tmp_path: Path
) -> None:
    with browser(chromium, tmp_path / "profile") as page:  # the page's own CSP applies
        _check_rendered(page, docs_url)


def _check_rendered(page: Page, docs_url: str) -> None:
    page.open(docs_url, 1400)
    wanted = {"/api/v1/submissions", "/api/v1/leaderboard", "/api/v1/admin/audit"}
    wait_until(
        lambda: wanted <= set(page.evaluate(RENDERED_PATHS)),
        timeout=30,
        message=lambda: f"Swagger UI rendering {sorted(wanted)} at {docs_url}",
    )
    text = page.evaluate("document.body.innerText")
    assert "Unable to render this definition" not in text and "Failed to load" not in text
