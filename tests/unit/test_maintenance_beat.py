"""The maintenance beat: a pass exactly every REAPER_INTERVAL_SECONDS, for any interval."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.maintenance import beat_seconds

LOCK_MARGIN = 0.25  # workers.main: the lock lives a quarter second less than one interval


def passes(interval: int, horizon: int) -> list[int]:
    """Seconds at which a pass starts when cron fires at beat_seconds and a lock of
    `interval - margin` seconds lets one beat through."""
    beats = beat_seconds(interval)
    started: list[int] = []
    for t in range(horizon):
        if t % 60 in beats and (not started or t >= started[-1] + interval - LOCK_MARGIN):
            started.append(t)
    return started


@given(st.integers(min_value=1, max_value=3 * 3600))
def test_passes_are_exactly_one_interval_apart(interval: int) -> None:
    started = passes(interval, horizon=max(4 * interval, 240))
    assert len(started) >= 3
    assert {b - a for a, b in itertools.pairwise(started)} == {interval}


@pytest.mark.parametrize(
    ("interval", "beats"),
    [(1, set(range(60))), (45, {0, 15, 30, 45}), (60, {0}), (90, {0, 30}), (7, set(range(60)))],
)
def test_beat_seconds(interval: int, beats: set[int]) -> None:
    assert beat_seconds(interval) == beats


def test_interval_below_one_second_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        beat_seconds(0)
