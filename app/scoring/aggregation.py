"""Level 1 of the protocol: judge ratings → item score → track score.

One rule ("weighted_mean", then the gate's cap) covers all four tracks, so the rubric files decide
the arithmetic and this module never branches on the track.
"""

from collections.abc import Iterable, Mapping, Sequence

from app.rubrics.model import Dimension, DimensionKind, Rubric

WEIGHTED_MEAN = "weighted_mean"
RULES = frozenset({WEIGHTED_MEAN})


def _check_value(dimension: Dimension, value: object) -> int:
    """A rating must be a plain int inside the dimension's scale; anything else is a caller bug."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"dimension {dimension.id!r}: rating must be an int, got {type(value).__name__}"
        )
    if dimension.kind is DimensionKind.BINARY:
        if value not in (0, 1):
            raise ValueError(
                f"binary dimension {dimension.id!r}: rating must be 0 or 1, got {value}"
            )
    elif not 0 <= value <= dimension.max_value:
        raise ValueError(
            f"ordinal dimension {dimension.id!r}: rating must be in 0..{dimension.max_value}, "
            f"got {value}"
        )
    return value


def validate_ratings(rubric: Rubric, ratings: Mapping[str, int]) -> None:
    """Every dimension rated exactly once and in range, so a partial reply never scores silently."""
    missing, unknown = rubric.key_mismatch(ratings)
    if missing:
        raise ValueError(f"{rubric.track} ratings: missing dimension(s) {', '.join(missing)}")
    if unknown:
        raise ValueError(f"{rubric.track} ratings: unknown dimension(s) {', '.join(unknown)}")
    for dimension in rubric.dimensions:
        _check_value(dimension, ratings[dimension.id])


def item_score(rubric: Rubric, ratings: Mapping[str, int]) -> float:
    """Σ wᵢ·vᵢ/maxᵢ / Σ wᵢ in [0, 1], capped by the rubric's gate when its dimension scored 0.

    T1 (weights 3, 1, 1, cap 0.2 without an exact match), T2/T3 (uniform binary means) and
    T4 (eight 0–2 ordinals, i.e. sum/16) are all instances of this one rule.
    """
    if rubric.rule != WEIGHTED_MEAN:
        raise ValueError(f"{rubric.track} rubric: unknown aggregation rule {rubric.rule!r}")
    validate_ratings(rubric, ratings)
    total_weight = sum(d.weight for d in rubric.dimensions)
    if total_weight <= 0:
        raise ValueError(f"{rubric.track} rubric: dimension weights must sum to a positive number")
    score = sum(d.weight * ratings[d.id] / d.max_value for d in rubric.dimensions) / total_weight
    gate = rubric.gate
    if gate is not None:
        if gate.dimension not in rubric.dimension_ids:
            raise ValueError(
                f"{rubric.track} rubric: gate names unknown dimension {gate.dimension!r}"
            )
        if ratings[gate.dimension] == 0:
            score = min(score, gate.cap)
    return score


def inconsistencies(rubric: Rubric, ratings: Mapping[str, int]) -> list[str]:
    """The rubric's `implies` rules this verdict breaks, as "a without b" (empty: consistent).

    T1: an exact match of the reference diagnosis is, by definition, in its disease category, so
    exact_match = YES with disease_category = NO contradicts itself. Such a verdict is still
    scored by the formula as given (the cap applies only without an exact match); the run counts
    it, so maintainers can see how often the judge contradicts itself.
    """
    broken: list[str] = []
    for rule in rubric.implies:
        if ratings.get(rule.dimension, 0) > 0:
            broken.extend(
                f"{rule.dimension} without {req}" for req in rule.requires if ratings.get(req) == 0
            )
    return broken


def count_inconsistent(rubric: Rubric, rated: Iterable[Mapping[str, int]]) -> int:
    """How many verdicts break at least one of the rubric's `implies` rules."""
    return sum(1 for ratings in rated if inconsistencies(rubric, ratings))


def dimension_means(rubric: Rubric, rated: Sequence[Mapping[str, int]]) -> dict[str, float]:
    """Per-dimension mean of vᵢ/maxᵢ on a 0–100 scale, to show where a model loses its points.

    Only items that were actually rated count (the caller passes them); no input gives 0.0.
    """
    for ratings in rated:
        validate_ratings(rubric, ratings)
    if not rated:
        return {d.id: 0.0 for d in rubric.dimensions}
    count = len(rated)
    return {
        d.id: 100.0 * sum(r[d.id] / d.max_value for r in rated) / count for d in rubric.dimensions
    }


def track_score(item_scores: Iterable[float], total_items: int) -> float:
    """100 × Σ item scores / all gold items: an item without a prediction is absent and counts 0."""
    if total_items <= 0:
        return 0.0
    total = 0.0
    count = 0
    for score in item_scores:
        total += score
        count += 1
    if count > total_items:
        raise ValueError(f"{count} item scores for only {total_items} gold items")
    return 100.0 * total / total_items
