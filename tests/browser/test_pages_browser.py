"""The pages in a real browser: headless Chromium loads the overview, a track page and the
domain-gap page from a running server, and we check what it rendered (the DOM after load) and
keep screenshots under test-artifacts/.

Debian's `chromium` package provides the browser (`make browser-deps`). Without it these tests
skip locally and fail under CI=true, like the other service-backed tests.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.integration.helpers import serve
from tests.web.leaderboard_support import seed, settings_for

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
BROWSER_TIMEOUT = 90
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        reason = "headless Chromium is not installed (run `make browser-deps`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the browser tests are required)", pytrace=False)
        pytest.skip(reason)
    return found


@pytest.fixture
def base_url(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    settings: Settings = settings_for(sqlite_url, tmp_path)
    asyncio.run(seed(settings))
    with serve(settings) as url:
        yield url


def run_chromium(chromium: str, profile: Path, *args: str) -> str:
    """One fresh browser process (its own profile directory); returns what it printed."""
    completed = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, (
        f"chromium failed ({completed.returncode}): {completed.stderr}"
    )
    return completed.stdout


def load(chromium: str, tmp_path: Path, url: str, screenshot: str) -> str:
    """The DOM Chromium built for `url`, and a full-width screenshot of it."""
    dom = run_chromium(chromium, tmp_path / "dom-profile", "--dump-dom", url)
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / screenshot
    target.unlink(missing_ok=True)
    run_chromium(
        chromium,
        tmp_path / "shot-profile",
        f"--screenshot={target}",
        "--window-size=1280,1800",
        url,
    )
    assert target.exists() and target.stat().st_size > 10_000, f"no screenshot of {url}"
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return dom


def test_overview_in_a_browser(chromium: str, base_url: str, tmp_path: Path) -> None:
    dom = load(chromium, tmp_path, f"{base_url}/", "overview.png")
    assert "<script" not in dom  # usable without JavaScript: there is none
    assert "<strong>27</strong> of 27 models" in dom
    rows = re.findall(r'<tr class="(judged|reported)" data-key="', dom)
    assert rows.count("judged") == 4 and rows.count("reported") == 23
    assert 'data-key="reported:GPT-5"' in dom and "reported in paper · Table 2" in dom
    assert "reference stand-in" in dom
    assert '<span class="v best">76.6</span>' in dom  # Gemini-3-Flash-Preview's T1
    assert "Rank range — computed here, not in the paper: the ranks compatible" in dom


def test_track_page_in_a_browser(chromium: str, base_url: str, tmp_path: Path) -> None:
    dom = load(chromium, tmp_path, f"{base_url}/tracks/T1?kind=judged", "track-T1.png")
    assert "<strong>4</strong> of 27 models" in dom
    assert "Exact diagnosis match" in dom and "Diagnostic specificity" in dom
    order = re.findall(r'data-key="judged:([^"]+)"', dom)
    assert order == ["Beta-Closed", "Alpha-General", "Gamma-Med", "Delta-Unified"]
    assert "96%" in dom  # Gamma-Med's coverage, 48 of 50


def test_domain_gap_page_in_a_browser(chromium: str, base_url: str, tmp_path: Path) -> None:
    dom = load(chromium, tmp_path, f"{base_url}/analysis/domain-gap?source=mixed", "domain-gap.png")
    load(chromium, tmp_path, f"{base_url}/analysis/domain-gap", "domain-gap-paper.png")
    svgs = re.findall(r"<svg[^>]*>", dom)
    assert len(svgs) == 2 and all('role="img"' in svg for svg in svgs)
    assert dom.count('<g class="bar">') == 12  # 4 tracks × (closed, open general, medical)
    assert dom.count('<rect class="box"') == 8  # 4 tracks × 2 groups
    # Mixed: 23 reported entries as circles, the 4 judged ones as diamonds (Delta: no T3, T4).
    assert dom.count('<circle class="point"') == 4 * 23
    assert dom.count('<polygon class="point marked"') == 4 * 4 - 2
    assert ">Score (0–100)</text>" in dom and ">best medical</text>" in dom
    assert "Capacity dilution" in dom and "(50 items)" in dom  # the paired T1 interval


def test_consistency_page_in_a_browser(chromium: str, base_url: str, tmp_path: Path) -> None:
    dom = load(chromium, tmp_path, f"{base_url}/analysis/consistency", "consistency.png")
    assert dom.count('<g class="cell">') == 16
    assert "Spearman" in dom
