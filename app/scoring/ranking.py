"""Ranks for leaderboard tables: point ranks, rank ranges, bold/underline and Spearman's ρ."""

import bisect
import math
from collections.abc import Sequence
from typing import Any


def rank_range(intervals: Sequence[tuple[float, float] | None]) -> list[tuple[int, int] | None]:
    """(best, worst) rank each entry could hold given the others' intervals.

    best = 1 + others entirely above this interval; worst = N − others entirely below it, with N
    the number of entries that have an interval. Overlapping intervals widen the range instead of
    pretending a 0.1-point lead is a real one.
    """
    present = [interval for interval in intervals if interval is not None]
    for low, high in present:
        if low > high:
            raise ValueError(f"interval low {low} is above high {high}")
    n = len(present)
    # Sorted bounds make each count a binary search: O(n log n) for a thousand-row board.
    lows = sorted(low for low, _ in present)
    highs = sorted(high for _, high in present)
    ranges: list[tuple[int, int] | None] = []
    for interval in intervals:
        if interval is None:
            ranges.append(None)
            continue
        low, high = interval
        # An entry never lies strictly above or below its own interval, so counting all is fine.
        above = n - bisect.bisect_right(lows, high)  # others whose low is above this high
        below = bisect.bisect_left(highs, low)  # others whose high is below this low
        ranges.append((1 + above, n - below))
    return ranges


def competition_ranks(
    values: Sequence[float | None], *, tie_break: Sequence[Any] | None = None
) -> list[int | None]:
    """Descending ranks; None stays unranked rather than sorting to the top or bottom.

    Equal values share a rank (1, 2, 2, 4) unless `tie_break` is given: then the smaller key
    (e.g. the earlier submission time) wins and ranks are distinct wherever the keys differ.
    """
    if tie_break is not None and len(tie_break) != len(values):
        raise ValueError(f"tie_break has {len(tie_break)} keys for {len(values)} values")
    keyed: list[tuple[tuple[Any, ...], int]] = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if math.isnan(value):
            raise ValueError(f"value at index {index} is NaN")
        key: tuple[Any, ...] = (-value,) if tie_break is None else (-value, tie_break[index])
        keyed.append((key, index))
    keyed.sort(key=lambda pair: pair[0])
    ranks: list[int | None] = [None] * len(values)
    previous: tuple[Any, ...] | None = None
    rank = 0
    for position, (key, index) in enumerate(keyed, start=1):
        if key != previous:
            rank = position
            previous = key
        ranks[index] = rank
    return ranks


def best_and_second(values: Sequence[float | None]) -> tuple[set[int], set[int]]:
    """Indices holding the best and the second-best distinct value (bold and underline).

    Compare the values as displayed (round them first), as the paper's tables do.
    """
    distinct = sorted({v for v in values if v is not None and not math.isnan(v)}, reverse=True)
    best = {i for i, v in enumerate(values) if distinct and v == distinct[0]}
    second = {i for i, v in enumerate(values) if len(distinct) > 1 and v == distinct[1]}
    return best, second


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ascending 1-based ranks; tied values get the mean of the positions they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's ρ (Pearson on average ranks); None when it is undefined (n < 2, no variance)."""
    if len(x) != len(y):
        raise ValueError(f"spearman needs paired values, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return None
    rx = average_ranks(x)
    ry = average_ranks(y)
    mean = (len(x) + 1) / 2  # average ranks always sum to n(n+1)/2
    dx = [r - mean for r in rx]
    dy = [r - mean for r in ry]
    sxx = sum(d * d for d in dx)
    syy = sum(d * d for d in dy)
    if sxx == 0 or syy == 0:
        return None
    rho = sum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, rho))
