"""CSV exports of the leaderboard tables: the same values as the JSON, one row per table row.

The board exports round their values as the page shows them (scores to one decimal, shares to a
tenth of a percent; the JSON keeps full precision); numbers are then written with Python's
shortest repr, so `63.275000000000006` on a page reading 63.3 is `63.3`. None — a value that
does not apply, such as a reported row's judge errors — is an empty cell; booleans are
true/false as in JSON. A text cell that a spreadsheet would run as a formula (starting with
= + - @ or a tab or carriage return) gets a leading apostrophe, the usual defence against CSV
injection: a model name is whatever its submitter typed.
"""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()


Row = TypeVar("Row")


@dataclass(frozen=True)
class CsvField(Generic[Row]):
    """One CSV column: the table column it belongs to (cols= keeps or drops it with that
    column), its header and how a row's value is read."""

    column: str
    header: str
    value: Callable[[Row], object]


def csv_table(fields: Sequence[CsvField[Row]], columns: Sequence[str], rows: Iterable[Row]) -> str:
    """`rows` as CSV with the fields of `columns`, in the fields' order."""
    kept = [field for field in fields if field.column in columns]
    return to_csv([field.header for field in kept], ([f.value(row) for f in kept] for row in rows))


def uncell(text: str) -> str:
    """The text a cell was made from (for tests and consumers that want the raw name back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
