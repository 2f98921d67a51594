"""`/about` as a visitor reads it: the summary, the links (settings), the BibTeX, scoring, the
submission rules with the numbers the service enforces, the FAQ; every page links to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.helpers import InProcessApp, in_process_app, sqlite_template, web_settings


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
async def env(template: Path, tmp_path: Path) -> AsyncIterator[InProcessApp]:
    settings = web_settings(
        template,
        tmp_path,
        submissions_per_day=3,
        min_ranked_coverage=0.8,
        benchmark_paper_url="https://example.org/mmrarebench.pdf",
    )
    async with in_process_app(settings) as env:
        yield env


async def test_the_about_page_says_what_the_service_enforces(env: InProcessApp) -> None:
    page = await env.client.get("/about")
    assert page.status_code == 200
    text = page.text
    assert "1,756" in text and "7,958" in text and "T4 Examination suggestion" in text
    assert '<a href="https://example.org/mmrarebench.pdf">' in text
    assert '<a href="https://anonymous.4open.science/r/MMRareBench-C80E/">' in text
    assert "@misc{ning2026mmrarebench," in text and "He, Junjun" in text
    assert "3 accepted submissions per team and track" in text
    assert "at least 80% of its track" in text
    assert "Exact diagnosis match, Disease category, Diagnostic specificity" in text
    for anchor in ("links", "cite", "scoring", "rules", "faq"):
        assert f'id="{anchor}"' in text
    for linked in ("/about", "/submit", "/tracks/T1", "/admin/login"):
        other = await env.client.get(linked)
        assert '<a href="/about">About</a>' in other.text, linked


async def test_without_a_paper_url_the_page_says_the_link_follows(
    template: Path, tmp_path: Path
) -> None:
    async with in_process_app(web_settings(template, tmp_path)) as env:
        page = (await env.client.get("/about")).text
    assert "(link to follow once it is public)" in page
    assert "5 accepted submissions per team and track" in page
