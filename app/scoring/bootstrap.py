"""Percentile bootstrap over gold items, so a leaderboard shows how far apart two scores really are.

Pure Python: `random.Random(seed).choices` plus `sum` resamples 1,756 items 1,000 times in a
fraction of a second, and a fixed seed makes every interval reproducible.
"""

import math
import random
from collections.abc import Sequence

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20260101
DEFAULT_CONFIDENCE = 0.95


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not sorted_values:
        raise ValueError("percentile of an empty sequence")
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction


def _check(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")


def _interval(
    values: Sequence[float], resamples: int, seed: int, confidence: float
) -> tuple[float, float]:
    """Percentile interval of the resampled mean ×100; resampling values = resampling items."""
    n = len(values)
    rng = random.Random(seed)
    population = list(values)
    choices = rng.choices
    means = sorted(100.0 * sum(choices(population, k=n)) / n for _ in range(resamples))
    tail = (1.0 - confidence) / 2.0
    return percentile(means, tail), percentile(means, 1.0 - tail)


def bootstrap_interval(
    item_scores: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float]:
    """(low, high) of the track score on the 0–100 scale.

    `item_scores` holds one value per scored gold item (0 for a missing prediction, judge errors
    left out), so the interval describes the same quantity as the track score. No items gives
    (0.0, 0.0).
    """
    _check(resamples, confidence)
    if not item_scores:
        return 0.0, 0.0
    return _interval(item_scores, resamples, seed, confidence)


def paired_bootstrap_gap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float, float]:
    """(mean(a) − mean(b), low, high) ×100 for two runs scored on the same items in the same order.

    Resampling item indices jointly keeps each item's pair together, which is exactly resampling
    the per-item differences; pairing removes item difficulty from the gap's uncertainty.
    """
    _check(resamples, confidence)
    if len(a) != len(b):
        raise ValueError(f"paired bootstrap needs aligned items, got {len(a)} and {len(b)}")
    if not a:
        return 0.0, 0.0, 0.0
    differences = [x - y for x, y in zip(a, b, strict=True)]
    observed = 100.0 * sum(differences) / len(differences)
    low, high = _interval(differences, resamples, seed, confidence)
    return observed, low, high
