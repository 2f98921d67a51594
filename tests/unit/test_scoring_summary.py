import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scoring.summary import BoxStats, box_stats, evenly_spaced, mean_interval


def test_mean_interval_averages_each_bound() -> None:
    assert mean_interval([(10.0, 20.0), (30.0, 50.0)]) == (20.0, 35.0)


def test_mean_interval_rejects_nothing_and_inverted_bounds() -> None:
    with pytest.raises(ValueError):
        mean_interval([])
    with pytest.raises(ValueError):
        mean_interval([(2.0, 1.0)])


def test_box_stats_uses_linear_interpolation() -> None:
    # numpy.percentile([1, 2, 3, 4], [25, 50, 75]) == [1.75, 2.5, 3.25]
    assert box_stats([4.0, 1.0, 3.0, 2.0]) == BoxStats(1.0, 1.75, 2.5, 3.25, 4.0, 4)
    assert box_stats([7.0]) == BoxStats(7.0, 7.0, 7.0, 7.0, 7.0, 1)
    assert box_stats([]) is None


def test_evenly_spaced_keeps_both_ends() -> None:
    assert evenly_spaced(5, 10) == [0, 1, 2, 3, 4]
    assert evenly_spaced(11, 3) == [0, 5, 10]
    assert evenly_spaced(10, 1) == [0]
    assert evenly_spaced(10, 0) == []


@given(st.integers(0, 2000), st.integers(2, 300))
def test_evenly_spaced_is_sorted_distinct_and_bounded(count: int, keep: int) -> None:
    picked = evenly_spaced(count, keep)
    assert picked == sorted(set(picked))
    assert len(picked) == min(count, keep)
    if count:
        assert picked[0] == 0 and picked[-1] == count - 1


@given(st.lists(st.floats(0, 100), min_size=1, max_size=50))
def test_box_stats_are_ordered(values: list[float]) -> None:
    stats = box_stats(values)
    assert stats is not None
    assert stats.minimum <= stats.q1 <= stats.median <= stats.q3 <= stats.maximum
