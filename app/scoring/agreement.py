"""Agreement between the judge and human raters, per rubric dimension: pure functions.

Ratings are integers on one dimension's scale: binary dimensions 0 (NO) / 1 (YES), ordinal ones
0..max (T4: 0–2). Each function takes two equally long sequences of paired ratings, and returns
None when the statistic is undefined (no pairs, or a kappa whose chance agreement is total).

* accuracy — share of pairs where both ratings are equal;
* Cohen's kappa — (pₒ − pₑ) / (1 − pₑ), with pₑ from each side's own marginal distribution;
* weighted kappa — 1 − Σ wᵢⱼ·Oᵢⱼ / Σ wᵢⱼ·Eᵢⱼ with quadratic weights wᵢⱼ = (i − j)² / (k − 1)²
  over the k scale values (for a binary scale it equals Cohen's kappa);
* false-positive rate (leniency) — among the pairs the human rated 0 (NO), the share the judge
  rated above 0;
* prevalence — share of human ratings above 0.
"""

from collections.abc import Sequence
from dataclasses import dataclass


def _check(a: Sequence[int], b: Sequence[int]) -> None:
    if len(a) != len(b):
        raise ValueError(f"paired ratings differ in length: {len(a)} and {len(b)}")


def accuracy(a: Sequence[int], b: Sequence[int]) -> float | None:
    _check(a, b)
    if not a:
        return None
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def _categories(a: Sequence[int], b: Sequence[int], scale: Sequence[int] | None) -> list[int]:
    values = sorted(set(a) | set(b))
    if scale is None:
        return values
    unknown = [v for v in values if v not in scale]
    if unknown:
        raise ValueError(f"ratings {unknown} are outside the scale {list(scale)}")
    return sorted(scale)


def cohen_kappa(
    a: Sequence[int], b: Sequence[int], scale: Sequence[int] | None = None
) -> float | None:
    """Unweighted Cohen's kappa of two raters over the same items."""
    _check(a, b)
    if not a:
        return None
    n = len(a)
    categories = _categories(a, b, scale)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in categories)
    if expected >= 1.0:
        return None  # both raters used one and the same value throughout: undefined
    return (observed - expected) / (1.0 - expected)


def quadratic_weighted_kappa(
    a: Sequence[int], b: Sequence[int], scale: Sequence[int]
) -> float | None:
    """Cohen's kappa with quadratic disagreement weights over the ordered `scale` values."""
    _check(a, b)
    if not a:
        return None
    categories = _categories(a, b, scale)
    k = len(categories)
    if k < 2:
        return None
    index = {value: i for i, value in enumerate(categories)}
    n = len(a)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[index[x]][index[y]] += 1 / n
    row = [sum(observed[i]) for i in range(k)]
    col = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    disagreement_observed = 0.0
    disagreement_expected = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            disagreement_observed += weight * observed[i][j]
            disagreement_expected += weight * row[i] * col[j]
    if disagreement_expected == 0.0:
        return None
    return 1.0 - disagreement_observed / disagreement_expected


def false_positive_rate(judge: Sequence[int], human: Sequence[int]) -> float | None:
    """Among the pairs the human rated 0, the share the judge rated above 0 (its leniency)."""
    _check(judge, human)
    negatives = [j for j, h in zip(judge, human, strict=True) if h == 0]
    if not negatives:
        return None
    return sum(1 for j in negatives if j > 0) / len(negatives)


def prevalence(human: Sequence[int]) -> float | None:
    """Share of the human ratings above 0."""
    if not human:
        return None
    return sum(1 for h in human if h > 0) / len(human)


@dataclass(frozen=True)
class Agreement:
    """Judge-versus-human agreement on one dimension."""

    pairs: int
    accuracy: float | None
    kappa: float | None
    weighted: bool  # True: quadratic-weighted kappa (ordinal scale)
    false_positive_rate: float | None
    prevalence: float | None


def agreement(judge: Sequence[int], human: Sequence[int], max_value: int) -> Agreement:
    """All statistics for one dimension whose scale is 0..max_value (1 = binary)."""
    scale = list(range(max_value + 1))
    weighted = max_value > 1
    kappa = (
        quadratic_weighted_kappa(judge, human, scale)
        if weighted
        else cohen_kappa(judge, human, scale)
    )
    return Agreement(
        pairs=len(judge),
        accuracy=accuracy(judge, human),
        kappa=kappa,
        weighted=weighted,
        false_positive_rate=false_positive_rate(judge, human),
        prevalence=prevalence(human),
    )


def rater_kappa(a: Sequence[int], b: Sequence[int], max_value: int) -> float | None:
    """Two human raters' kappa on the items both labelled: the ceiling for the judge's."""
    scale = list(range(max_value + 1))
    if max_value > 1:
        return quadratic_weighted_kappa(a, b, scale)
    return cohen_kappa(a, b, scale)
