"""Agreement statistics against values computed by hand (derivations in the comments)."""

import pytest

from app.scoring.agreement import (
    accuracy,
    agreement,
    cohen_kappa,
    false_positive_rate,
    prevalence,
    quadratic_weighted_kappa,
    rater_kappa,
)

# Ten binary pairs (judge, human):
#               human 1   human 0
#   judge 1        4         2       → judge YES 6/10
#   judge 0        1         3       → judge NO 4/10
#                 5/10      5/10
# pₒ = 7/10; pₑ = 0.6·0.5 + 0.4·0.5 = 0.5; κ = (0.7 − 0.5) / 0.5 = 0.4
JUDGE = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
HUMAN = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]


def test_binary_accuracy_and_kappa() -> None:
    assert accuracy(JUDGE, HUMAN) == pytest.approx(0.7)
    assert cohen_kappa(JUDGE, HUMAN) == pytest.approx(0.4)


def test_false_positive_rate_and_prevalence() -> None:
    # Human NO on 5 pairs; the judge said YES on 2 of them.
    assert false_positive_rate(JUDGE, HUMAN) == pytest.approx(2 / 5)
    assert prevalence(HUMAN) == pytest.approx(0.5)


def test_kappa_textbook_example() -> None:
    # Cohen (1960)-style 50 items: both YES 20, rater a YES / b NO 5, a NO / b YES 10, both NO 15.
    # pₒ = 35/50 = 0.7; a YES 25/50, b YES 30/50; pₑ = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_quadratic_weighted_kappa_on_a_three_point_scale() -> None:
    # Pairs (a, b): (0,0) (1,1) (2,2) (2,1) (0,1) (2,2)  — n = 6, k = 3, w = (i−j)²/4
    # Observed disagreement: (2,1) and (0,1) each weigh 1/4 → Σ w·O = (1/4 + 1/4)/6 = 1/12
    # a marginals: 0:2/6, 1:1/6, 2:3/6;  b marginals: 0:1/6, 1:3/6, 2:2/6
    # Σ w·E = Σᵢⱼ wᵢⱼ·aᵢ·bⱼ = [1/4·(2·3 + 1·1 + 1·2 + 3·3) + 1·(2·2 + 3·1)] / 36
    #       = [1/4·18 + 7] / 36 = 11.5 / 36
    # κ_w = 1 − (1/12) / (11.5/36) = 1 − 3/11.5 = 0.7391…
    a = [0, 1, 2, 2, 0, 2]
    b = [0, 1, 2, 1, 1, 2]
    assert quadratic_weighted_kappa(a, b, [0, 1, 2]) == pytest.approx(1 - 3 / 11.5)


def test_weighted_kappa_of_a_binary_scale_is_cohens() -> None:
    assert quadratic_weighted_kappa(JUDGE, HUMAN, [0, 1]) == pytest.approx(0.4)


def test_perfect_and_opposite_agreement() -> None:
    assert cohen_kappa([0, 1, 1, 0], [0, 1, 1, 0]) == pytest.approx(1.0)
    assert cohen_kappa([0, 1, 1, 0], [1, 0, 0, 1]) == pytest.approx(-1.0)
    assert quadratic_weighted_kappa([0, 2], [2, 0], [0, 1, 2]) == pytest.approx(-1.0)


def test_undefined_values_are_none() -> None:
    assert accuracy([], []) is None
    assert cohen_kappa([], []) is None
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # chance agreement is total
    assert false_positive_rate([1, 1], [1, 1]) is None  # no human NO
    assert prevalence([]) is None


def test_mismatched_lengths_and_values_outside_the_scale_are_errors() -> None:
    with pytest.raises(ValueError, match="length"):
        accuracy([1], [1, 0])
    with pytest.raises(ValueError, match="outside the scale"):
        cohen_kappa([0, 3], [0, 1], [0, 1])


def test_ordinal_leniency_counts_any_credit_on_a_human_zero() -> None:
    # Human 0 on three pairs; the judge gave 1, 2 and 0 → 2/3.
    assert false_positive_rate([1, 2, 0, 2], [0, 0, 0, 2]) == pytest.approx(2 / 3)


def test_agreement_summary_picks_the_kappa_for_the_scale() -> None:
    binary = agreement(JUDGE, HUMAN, max_value=1)
    assert (binary.pairs, binary.weighted) == (10, False)
    assert binary.kappa == pytest.approx(0.4)
    ordinal = agreement([0, 1, 2, 2, 0, 2], [0, 1, 2, 1, 1, 2], max_value=2)
    assert ordinal.weighted is True
    assert ordinal.kappa == pytest.approx(1 - 3 / 11.5)
    assert ordinal.accuracy == pytest.approx(4 / 6)
    assert rater_kappa([0, 1, 2, 2, 0, 2], [0, 1, 2, 1, 1, 2], 2) == pytest.approx(1 - 3 / 11.5)
