"""CSV exports of the leaderboard tables: the same values as the JSON, one row per table row.

Numbers are written with Python's shortest round-tripping repr (as the JSON is), so a CSV cell
parses back to exactly the JSON value; None is an empty cell; booleans are true/false as in
JSON. A text cell that a spreadsheet would run as a formula (starting with = + - @ or a tab or
carriage return) gets a leading apostrophe, the usual defence against CSV injection: a model
name is whatever its submitter typed.
"""

import csv
import io
from collections.abc import Iterable, Sequence

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


def uncell(text: str) -> str:
    """The text a cell was made from (for tests and consumers that want the raw name back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
