"""The judge page's run rates: one pure function over summed run counters."""

from app.services.reliability import RUN_RATES, RunRate, run_rates
from app.tracks import Track


def test_rates_divide_each_counter_by_the_items_judged() -> None:
    error_rate, inconsistency_rate = run_rates(
        {"judge_error_count": 3, "judge_inconsistencies": 6}, 120
    )
    assert error_rate.rate.key == "judge_error_rate"
    assert (error_rate.count, error_rate.items, error_rate.value) == (3, 120, 0.025)
    assert inconsistency_rate.rate.key == "judge_inconsistency_rate"
    assert (inconsistency_rate.count, inconsistency_rate.value) == (6, 0.05)


def test_the_inconsistency_rate_is_t1_only() -> None:
    """T1 runs count exact=YES with category=NO; other tracks have no such pair of verdicts."""
    sums = {"judge_error_count": 1, "judge_inconsistencies": 2}
    assert [r.rate.key for r in run_rates(sums, 10, track=Track.T1)] == [
        "judge_error_rate",
        "judge_inconsistency_rate",
    ]
    for track in (Track.T2, Track.T3, Track.T4):
        assert [r.rate.key for r in run_rates(sums, 10, track=track)] == ["judge_error_rate"]


def test_no_items_means_no_rate_not_zero() -> None:
    assert [r.value for r in run_rates({}, 0)] == [None] * len(RUN_RATES)


def test_one_more_rate_is_one_more_entry() -> None:
    extra = (*RUN_RATES, RunRate("other_rate", "Other", "other_counter", "definition"))
    rates = run_rates({"judge_error_count": 1, "other_counter": 5}, 10, extra)
    assert [(r.rate.key, r.value) for r in rates] == [
        ("judge_error_rate", 0.1),
        ("judge_inconsistency_rate", 0.0),
        ("other_rate", 0.5),
    ]
