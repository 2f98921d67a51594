"""Summaries the leaderboard pages draw: the interval of a mean of track scores, and box statistics.

Pure functions on plain values, like the rest of `app.scoring`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.scoring.bootstrap import percentile


def mean_interval(intervals: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(mean of the lows, mean of the highs): a conservative interval for a mean of scores.

    The four track intervals come from independent bootstraps over different items, so the mean's
    own 95% interval is narrower than this (errors partly cancel); taking every track at its
    bound at once never claims more separation than the data supports.
    """
    if not intervals:
        raise ValueError("mean_interval of no intervals")
    for low, high in intervals:
        if low > high:
            raise ValueError(f"interval low {low} is above high {high}")
    n = len(intervals)
    return sum(low for low, _ in intervals) / n, sum(high for _, high in intervals) / n


@dataclass(frozen=True)
class BoxStats:
    """Five-number summary: whiskers at the extremes, box from the first to the third quartile."""

    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    count: int


def box_stats(values: Sequence[float]) -> BoxStats | None:
    """Quartiles by linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return BoxStats(
        minimum=ordered[0],
        q1=percentile(ordered, 0.25),
        median=percentile(ordered, 0.5),
        q3=percentile(ordered, 0.75),
        maximum=ordered[-1],
        count=len(ordered),
    )


def evenly_spaced(count: int, keep: int) -> list[int]:
    """Indices of `keep` positions spread evenly over range(count), both ends included.

    A chart that cannot show a thousand points shows every n-th one of the sorted values, so the
    shape of the distribution survives the thinning.
    """
    if keep < 0 or count < 0:
        raise ValueError("count and keep must not be negative")
    if keep >= count:
        return list(range(count))
    if keep == 0:
        return []
    if keep == 1:
        return [0]
    step = (count - 1) / (keep - 1)
    return sorted({round(i * step) for i in range(keep)})
