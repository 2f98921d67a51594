"""`bench/pipeline_saturation.py` (docs/performance.md) runs as documented, on a small run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pipeline_saturation.py"


def test_the_pipeline_benchmark_measures_both_modes(
    postgres_admin_url: str, redis_clean: str
) -> None:
    small = ["--items", "40", "--latency-ms", "20", "--concurrency", "4"]
    services = ["--postgres-url", postgres_admin_url, "--redis-url", redis_clean]
    done = subprocess.run(
        [sys.executable, str(BENCH), *small, *services],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for mode in ("embedded", "redis"):
        assert f"== {mode}: 40 T1 items, judge calls 40" in out, out
    shares = [float(m) for m in re.findall(r"share of the limit\s+([0-9.]+)", out)]
    assert len(shares) == 2 and all(0 < share <= 1.05 for share in shares), out
    assert len(re.findall(r"CPU per item\s+[0-9.]+ ms", out)) == 2, out
    assert len(re.findall(r"peak memory\s+[0-9]+ MB", out)) == 2, out
