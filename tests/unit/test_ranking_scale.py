"""rank_range counts with binary searches; it must agree with the definition, pair by pair."""

from hypothesis import given
from hypothesis import strategies as st

from app.scoring.ranking import rank_range

bounds = st.tuples(st.integers(0, 40), st.integers(0, 10)).map(
    lambda pair: (float(pair[0]), float(pair[0] + pair[1]))
)


def by_definition(
    intervals: list[tuple[float, float] | None],
) -> list[tuple[int, int] | None]:
    present = [i for i in intervals if i is not None]
    result: list[tuple[int, int] | None] = []
    for interval in intervals:
        if interval is None:
            result.append(None)
            continue
        low, high = interval
        above = sum(1 for other_low, _ in present if other_low > high)
        below = sum(1 for _, other_high in present if other_high < low)
        result.append((1 + above, len(present) - below))
    return result


@given(st.lists(st.one_of(st.none(), bounds), max_size=40))
def test_rank_range_matches_its_definition(intervals: list[tuple[float, float] | None]) -> None:
    assert rank_range(intervals) == by_definition(intervals)
