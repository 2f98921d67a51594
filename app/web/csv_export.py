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
