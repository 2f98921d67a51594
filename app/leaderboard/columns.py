"""A board table's columns: their keys, which a table offers, and which a visitor chose.

The keys are the one vocabulary of `sort=`, `cols=`, the JSON's `columns` and the CSV's column
groups (docs/leaderboard.md). Pure functions; no I/O.
"""

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

from app.errors import InvalidInput


class Column(StrEnum):
    """Column keys. Overview: rank, model, organisation, size, T1, T1_F1, T2, T3, T4, mean. A
    track page: rank, model, organisation, size, score, f1 (T1), one key per rubric dimension
    ("dim:<id>"), items, coverage."""

    RANK = "rank"
    MODEL = "model"
    ORGANISATION = "organisation"
    SIZE = "size"
    T1 = "T1"
    T1_F1 = "T1_F1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    MEAN = "mean"
    SCORE = "score"
    F1 = "f1"
    ITEMS = "items"
    COVERAGE = "coverage"


DIMENSION_PREFIX = "dim:"

OVERVIEW_SCORE_COLUMNS: tuple[str, ...] = (
    Column.T1,
    Column.T1_F1,
    Column.T2,
    Column.T3,
    Column.T4,
    Column.MEAN,
)
MODEL_COLUMNS: tuple[str, ...] = (Column.ORGANISATION, Column.SIZE)
OVERVIEW_COLUMNS: tuple[str, ...] = (
    Column.RANK,
    Column.MODEL,
    *MODEL_COLUMNS,
    *OVERVIEW_SCORE_COLUMNS,
)
# Shown by default only where a matching row has a value (no all-"–" columns).
OPTIONAL_WHEN_EMPTY: tuple[str, ...] = MODEL_COLUMNS
# Every row names its model: the model column is always shown.
ALWAYS_SHOWN = Column.MODEL


def dimension_column(dimension_id: str) -> str:
    return f"{DIMENSION_PREFIX}{dimension_id}"


def is_dimension(column: str) -> bool:
    return column.startswith(DIMENSION_PREFIX)


def parse_columns(values: Iterable[str]) -> tuple[str, ...]:
    """`cols=` as given: comma lists and repeated parameters alike, blanks and repeats dropped."""
    found: list[str] = []
    for value in values:
        for key in value.split(","):
            key = key.strip()
            if key and key not in found:
                found.append(key)
    return tuple(found)


def choose_columns(available: Sequence[str], requested: Sequence[str]) -> tuple[str, ...]:
    """The columns a visitor chose, in the table's order, with the model column always kept.
    An unknown key is refused with every valid key named."""
    unknown = [key for key in requested if key not in available]
    if unknown:
        raise InvalidInput(
            f"unknown column{'s' if len(unknown) > 1 else ''} in cols: "
            f"{', '.join(repr(key) for key in unknown)}; this table's columns are "
            f"{', '.join(available)} (a comma-separated list, e.g. cols=model,{available[-1]})"
        )
    wanted = set(requested) | {ALWAYS_SHOWN}
    return tuple(key for key in available if key in wanted)


def shown_columns(
    available: tuple[str, ...],
    requested: tuple[str, ...],
    sort: str,
    has_value: Callable[[str], bool],
    off_by_default: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The columns a table shows: those chosen with cols= (`requested`), else every column that
    has a value in a matching row (dimension, organisation and size columns can be empty) apart
    from `off_by_default`; the sort column always stays."""
    if requested:
        return choose_columns(available, requested)

    def default(column: str) -> bool:
        if column in off_by_default:
            return False
        return not (is_dimension(column) or column in OPTIONAL_WHEN_EMPTY) or has_value(column)

    return tuple(c for c in available if default(c) or c == sort)


def size_in_billions(parameter_count: int | None) -> float | None:
    """A model's size as the board shows and filters it: billions of parameters."""
    return None if parameter_count is None else parameter_count / 1e9


def size_label(parameter_count: int | None) -> str:
    """Billions to three significant digits ("7B", "0.5B", "235B", "1,800B"); "" if unknown."""
    billions = size_in_billions(parameter_count)
    if billions is None:
        return ""
    return f"{billions:.3g}B" if billions < 1000 else f"{billions:,.0f}B"
