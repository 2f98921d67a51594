import random

import pytest

from app.scoring.bootstrap import bootstrap_interval, paired_bootstrap_gap, percentile


def scores(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.choice([0.0, 0.2, 0.6, 0.8, 1.0]) for _ in range(n)]


def test_same_seed_same_interval() -> None:
    values = scores(300, 1)
    assert bootstrap_interval(values, seed=7) == bootstrap_interval(values, seed=7)
    assert bootstrap_interval(values, seed=7) != bootstrap_interval(values, seed=8)


def test_interval_contains_the_mean() -> None:
    values = scores(500, 2)
    mean = 100 * sum(values) / len(values)
    low, high = bootstrap_interval(values)
    assert 0.0 <= low < mean < high <= 100.0


def test_interval_width_matches_the_standard_error() -> None:
    values = [1.0] * 500 + [0.0] * 500  # mean 50, se = 100·√(0.25/1000) ≈ 1.58
    low, high = bootstrap_interval(values, resamples=2000)
    assert high - low == pytest.approx(2 * 1.96 * 1.58, rel=0.15)


def test_higher_confidence_is_wider() -> None:
    values = scores(400, 3)
    low95, high95 = bootstrap_interval(values)
    low99, high99 = bootstrap_interval(values, confidence=0.99)
    assert low99 <= low95 and high95 <= high99


def test_all_equal_values_give_a_degenerate_interval() -> None:
    assert bootstrap_interval([0.3] * 200) == pytest.approx((30.0, 30.0))
    assert bootstrap_interval([0.0] * 50) == (0.0, 0.0)


def test_no_items() -> None:
    assert bootstrap_interval([]) == (0.0, 0.0)
    assert paired_bootstrap_gap([], []) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"resamples": 0}, "resamples"), ({"confidence": 1.0}, "confidence")]
)
def test_bad_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_interval([1.0], **kwargs)  # type: ignore[arg-type]


def test_paired_gap_observed_and_interval() -> None:
    a = scores(400, 5)
    b = [max(0.0, x - 0.2) for x in a]
    gap, low, high = paired_bootstrap_gap(a, b)
    assert gap == pytest.approx(100 * (sum(a) - sum(b)) / len(a))
    assert low <= gap <= high


def test_paired_gap_of_a_constant_shift_is_exact() -> None:
    a = scores(300, 6)
    b = [x + 0.25 for x in a]
    gap, low, high = paired_bootstrap_gap(a, b)
    assert (gap, low, high) == pytest.approx((-25.0, -25.0, -25.0))


def test_paired_gap_is_narrower_than_unpaired_intervals() -> None:
    a = scores(400, 7)
    b = [min(1.0, x + 0.2) if i % 3 else x for i, x in enumerate(a)]
    _, low, high = paired_bootstrap_gap(a, b)
    a_low, a_high = bootstrap_interval(a)
    assert high - low < a_high - a_low


def test_paired_gap_needs_aligned_items() -> None:
    with pytest.raises(ValueError, match="aligned items, got 2 and 1"):
        paired_bootstrap_gap([1.0, 0.0], [1.0])


def test_percentile_interpolates_linearly() -> None:
    assert percentile([0.0, 10.0, 20.0, 30.0], 0.5) == pytest.approx(15.0)
    assert percentile([0.0, 10.0], 0.0) == 0.0
    assert percentile([0.0, 10.0], 1.0) == 10.0
    assert percentile([5.0], 0.025) == 5.0
