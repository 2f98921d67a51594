"""The browser tests' Chromium: Debian's `chromium` package (`make browser-deps`). Without it
these tests skip locally and fail under CI=true, like the other service-backed tests."""

import os
import shutil
from pathlib import Path

import pytest


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
