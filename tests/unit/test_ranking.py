import math
from datetime import datetime

import pytest

from app.scoring.ranking import (
    average_ranks,
    best_and_second,
    competition_ranks,
    rank_range,
    spearman,
)


def test_rank_range_hand_computed() -> None:
    intervals = [(70.0, 80.0), (65.0, 75.0), (50.0, 60.0), None, (40.0, 52.0)]
    # A and B overlap each other and lie above C and E; C and E overlap each other.
    assert rank_range(intervals) == [(1, 2), (1, 2), (3, 4), None, (3, 4)]


def test_rank_range_of_separated_intervals_is_a_point() -> None:
    assert rank_range([(10.0, 20.0), (30.0, 40.0), (50.0, 60.0)]) == [(3, 3), (2, 2), (1, 1)]


def test_rank_range_touching_bounds_overlap() -> None:
    assert rank_range([(10.0, 20.0), (20.0, 30.0)]) == [(1, 2), (1, 2)]


def test_rank_range_of_nothing() -> None:
    assert rank_range([]) == []
    assert rank_range([None, None]) == [None, None]
    assert rank_range([(5.0, 5.0)]) == [(1, 1)]


def test_rank_range_rejects_inverted_intervals() -> None:
    with pytest.raises(ValueError, match="above high"):
        rank_range([(2.0, 1.0)])


def test_competition_ranks_share_tied_ranks() -> None:
    assert competition_ranks([80.0, 90.0, 80.0, None, 70.0]) == [2, 1, 2, None, 4]


def test_competition_ranks_break_ties_by_earlier_submission() -> None:
    submitted = [datetime(2026, 1, d) for d in (3, 1, 2, 4, 5)]
    ranks = competition_ranks([80.0, 90.0, 80.0, None, 70.0], tie_break=submitted)
    assert ranks == [3, 1, 2, None, 4]


def test_competition_ranks_equal_tie_break_keys_still_share() -> None:
    assert competition_ranks([5.0, 5.0], tie_break=[1, 1]) == [1, 1]


def test_competition_ranks_validate_input() -> None:
    assert competition_ranks([]) == []
    assert competition_ranks([None]) == [None]
    with pytest.raises(ValueError, match="tie_break has 1 keys for 2 values"):
        competition_ranks([1.0, 2.0], tie_break=[0])
    with pytest.raises(ValueError, match="NaN"):
        competition_ranks([math.nan])


def test_best_and_second_distinct_values() -> None:
    assert best_and_second([52.0, 58.1, None, 58.1, 46.9]) == ({1, 3}, {0})
    assert best_and_second([1.0]) == ({0}, set())
    assert best_and_second([None, None]) == (set(), set())


def test_best_and_second_on_the_papers_closed_t1_column() -> None:
    t1 = [75.9, 62.5, 30.9, 68.5, 62.2, 74.0, 76.6]  # Table 2: Gemini-3-Flash bold, GPT-5 underline
    assert best_and_second(t1) == ({6}, {0})


def test_average_ranks_for_ties() -> None:
    assert average_ranks([10.0, 30.0, 20.0, 30.0]) == [1.0, 3.5, 2.0, 3.5]


def test_spearman_hand_computed_with_ties() -> None:
    # ranks y = 1, 2, 3.5, 5, 3.5 → ρ = 8 / √(10 · 9.5)
    rho = spearman([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 6.0, 7.0, 8.0, 7.0])
    assert rho == pytest.approx(8 / math.sqrt(95))


def test_spearman_monotone() -> None:
    assert spearman([1.0, 2.0, 3.0], [10.0, 100.0, 1000.0]) == pytest.approx(1.0)
    assert spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_spearman_undefined() -> None:
    assert spearman([], []) is None
    assert spearman([1.0], [2.0]) is None
    assert spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None
    with pytest.raises(ValueError, match="paired values"):
        spearman([1.0, 2.0], [1.0])
