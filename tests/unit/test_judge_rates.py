"""The judge page's run rates: one pure function over summed run counters."""

from app.services.reliability import RUN_RATES, RunRate, run_rates


def test_rates_divide_each_counter_by_the_items_judged() -> None:
    (error_rate,) = run_rates({"judge_errors": 3}, 120)
    assert error_rate.rate.key == "judge_error_rate"
    assert (error_rate.count, error_rate.items, error_rate.value) == (3, 120, 0.025)


def test_no_items_means_no_rate_not_zero() -> None:
    assert [r.value for r in run_rates({}, 0)] == [None] * len(RUN_RATES)


def test_one_more_rate_is_one_more_entry() -> None:
    extra = (*RUN_RATES, RunRate("other_rate", "Other", "other_counter", "definition"))
    rates = run_rates({"judge_errors": 1, "other_counter": 5}, 10, extra)
    assert [(r.rate.key, r.value) for r in rates] == [
        ("judge_error_rate", 0.1),
        ("other_rate", 0.5),
    ]
