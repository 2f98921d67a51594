from dataclasses import replace
from itertools import product

import pytest

from app.rubrics.loader import bundled_rubric
from app.rubrics.model import Dimension, DimensionKind, Gate, Implication, PromptTemplate, Rubric
from app.scoring.aggregation import (
    count_inconsistent,
    dimension_means,
    inconsistencies,
    item_score,
    track_score,
)
from app.tracks import Track

PROMPT = PromptTemplate("s", "u")


def binary(dimension_id: str, weight: float = 1.0) -> Dimension:
    return Dimension(dimension_id, dimension_id, DimensionKind.BINARY, weight, "criterion")


def ordinal(dimension_id: str) -> Dimension:
    return Dimension(dimension_id, dimension_id, DimensionKind.ORDINAL, 1.0, "criterion", 2)


def rubric(track: Track) -> Rubric:
    """Rubrics shaped like the four tracks of the paper (Sec. 3.4)."""
    if track is Track.T1:
        dimensions = (
            binary("exact_match", 3),
            binary("disease_category"),
            binary("diagnostic_specificity"),
        )
        return Rubric(track, "T1", dimensions, PROMPT, gate=Gate("exact_match", 0.2))
    if track is Track.T2:
        return Rubric(track, "T2", tuple(binary(f"t2_{i}") for i in range(6)), PROMPT)
    if track is Track.T3:
        return Rubric(track, "T3", tuple(binary(f"t3_{i}") for i in range(5)), PROMPT)
    return Rubric(track, "T4", tuple(ordinal(f"t4_{i}") for i in range(8)), PROMPT)


def t1(exact: int, category: int, specificity: int) -> dict[str, int]:
    return {
        "exact_match": exact,
        "disease_category": category,
        "diagnostic_specificity": specificity,
    }


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        (t1(1, 1, 1), 1.0),
        (t1(0, 1, 1), 0.2),  # 2/5 = 0.4 before the cap
        (t1(1, 0, 0), 0.6),
        (t1(1, 1, 0), 0.8),
        (t1(0, 1, 0), 0.2),  # 1/5 = 0.2: the cap does not bind
        (t1(0, 0, 0), 0.0),
    ],
)
def test_t1_weighted_cascade_with_cap(ratings: dict[str, int], expected: float) -> None:
    assert item_score(rubric(Track.T1), ratings) == pytest.approx(expected)


def test_t1_cap_binds_only_when_exact_match_fails() -> None:
    uncapped = replace(rubric(Track.T1), gate=None)
    assert item_score(uncapped, t1(0, 1, 1)) == pytest.approx(0.4)
    assert item_score(rubric(Track.T1), t1(0, 1, 1)) == pytest.approx(0.2)


def test_t2_is_mean_of_six_binaries() -> None:
    ratings = {f"t2_{i}": int(i < 4) for i in range(6)}
    assert item_score(rubric(Track.T2), ratings) == pytest.approx(4 / 6)


def test_t3_is_mean_of_five_binaries() -> None:
    ratings = {f"t3_{i}": int(i == 2) for i in range(5)}
    assert item_score(rubric(Track.T3), ratings) == pytest.approx(1 / 5)


def test_t4_is_sum_over_sixteen() -> None:
    values = [0, 1, 2, 2, 1, 0, 2, 1]  # sum 9
    ratings = {f"t4_{i}": v for i, v in enumerate(values)}
    assert item_score(rubric(Track.T4), ratings) == pytest.approx(9 / 16)
    assert item_score(rubric(Track.T4), dict.fromkeys(ratings, 2)) == pytest.approx(1.0)
    assert item_score(rubric(Track.T4), dict.fromkeys(ratings, 0)) == 0.0


def test_missing_dimension_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"missing dimension.*diagnostic_specificity"):
        item_score(rubric(Track.T1), {"exact_match": 1, "disease_category": 1})


def test_unknown_dimension_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown dimension.*bonus"):
        item_score(rubric(Track.T1), {**t1(1, 1, 1), "bonus": 1})


@pytest.mark.parametrize("value", [2, -1])
def test_binary_out_of_range_is_rejected(value: int) -> None:
    with pytest.raises(ValueError, match=r"binary dimension 'exact_match'.*0 or 1"):
        item_score(rubric(Track.T1), t1(value, 1, 1))


@pytest.mark.parametrize("value", [3, -1])
def test_ordinal_out_of_range_is_rejected(value: int) -> None:
    ratings = {f"t4_{i}": 1 for i in range(8)} | {"t4_3": value}
    with pytest.raises(ValueError, match=r"ordinal dimension 't4_3'.*0\.\.2"):
        item_score(rubric(Track.T4), ratings)


def test_non_int_rating_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be an int"):
        item_score(rubric(Track.T1), t1(True, 1, 1))


def test_unknown_rule_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown aggregation rule 'geometric'"):
        item_score(replace(rubric(Track.T2), rule="geometric"), {f"t2_{i}": 1 for i in range(6)})


def test_gate_on_unknown_dimension_is_rejected() -> None:
    broken = replace(rubric(Track.T1), gate=Gate("nope", 0.2))
    with pytest.raises(ValueError, match="gate names unknown dimension 'nope'"):
        item_score(broken, t1(1, 1, 1))


def test_dimension_means_on_a_0_100_scale() -> None:
    rated = [t1(1, 1, 0), t1(0, 1, 0), t1(1, 0, 0), t1(0, 1, 1)]
    assert dimension_means(rubric(Track.T1), rated) == pytest.approx(
        {"exact_match": 50.0, "disease_category": 75.0, "diagnostic_specificity": 25.0}
    )


def test_dimension_means_divide_ordinals_by_their_maximum() -> None:
    rated = [{f"t4_{i}": 2 for i in range(8)}, {f"t4_{i}": 1 for i in range(8)}]
    assert dimension_means(rubric(Track.T4), rated)["t4_0"] == pytest.approx(75.0)


def test_dimension_means_of_nothing_are_zero() -> None:
    assert dimension_means(rubric(Track.T3), []) == {f"t3_{i}": 0.0 for i in range(5)}


def test_dimension_means_validate_ratings() -> None:
    with pytest.raises(ValueError, match="missing dimension"):
        dimension_means(rubric(Track.T1), [{"exact_match": 1}])


def test_track_score_counts_missing_items_as_zero() -> None:
    assert track_score([1.0, 0.5], total_items=4) == pytest.approx(37.5)
    assert track_score(iter([1.0, 1.0]), total_items=2) == pytest.approx(100.0)


def test_track_score_without_items() -> None:
    assert track_score([], total_items=0) == 0.0
    assert track_score([], total_items=10) == 0.0


def test_track_score_rejects_more_scores_than_items() -> None:
    with pytest.raises(ValueError, match="3 item scores for only 2 gold items"):
        track_score([1.0, 1.0, 1.0], total_items=2)


def test_t1_formula_on_the_bundled_rubric_is_the_papers() -> None:
    bundled = bundled_rubric(Track.T1)
    for exact, category, specificity in product((0, 1), repeat=3):
        raw = (3 * exact + category + specificity) / 5
        expected = raw if exact else min(raw, 0.2)
        assert item_score(bundled, t1(exact, category, specificity)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ratings", "broken"),
    [
        (t1(1, 0, 0), ["exact_match without disease_category"]),
        (t1(1, 0, 1), ["exact_match without disease_category"]),
        (t1(1, 1, 0), []),
        (t1(1, 1, 1), []),
        (t1(0, 0, 1), []),
        (t1(0, 1, 0), []),
        (t1(0, 0, 0), []),
    ],
)
def test_t1_exact_match_without_its_category_is_an_inconsistency(
    ratings: dict[str, int], broken: list[str]
) -> None:
    bundled = bundled_rubric(Track.T1)
    assert inconsistencies(bundled, ratings) == broken
    # Scored as given: the formula does not change for inconsistent verdicts either.
    exact, category, specificity = (ratings[k] for k in bundled.dimension_ids)
    raw = (3 * exact + category + specificity) / 5
    assert item_score(bundled, ratings) == pytest.approx(raw if exact else min(raw, 0.2))


def test_inconsistent_verdicts_are_counted_per_item() -> None:
    bundled = bundled_rubric(Track.T1)
    rated = [t1(1, 0, 0), t1(1, 0, 1), t1(1, 1, 1), t1(0, 0, 0)]
    assert count_inconsistent(bundled, rated) == 2
    assert count_inconsistent(bundled_rubric(Track.T2), []) == 0


def test_a_rubric_without_implications_has_no_inconsistencies() -> None:
    assert inconsistencies(rubric(Track.T1), t1(1, 0, 0)) == []
    chained = replace(
        rubric(Track.T1),
        implies=(Implication("exact_match", ("disease_category", "diagnostic_specificity")),),
    )
    assert inconsistencies(chained, t1(1, 0, 0)) == [
        "exact_match without disease_category",
        "exact_match without diagnostic_specificity",
    ]
