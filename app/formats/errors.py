"""One error type for every line-oriented file we read (gold bundles, prediction files).

Sharing it lets the CLI, the API and the HTML pages render both kinds of file error the same way.
Messages name fields and JSON types, never the values behind them: gold text is secret and a
prediction can be megabytes long. Ids and track names are the only values echoed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.formats.text import TextKind, text_problem

MAX_SHOWN_ID_CHARS = 80


def show_id(item_id: str) -> str:
    """Quote an id for a message, shortened so a hostile 1 MB id cannot flood the report."""
    if len(item_id) > MAX_SHOWN_ID_CHARS:
        item_id = item_id[: MAX_SHOWN_ID_CHARS - 1] + "…"
    return repr(item_id)


def json_type(value: Any) -> str:
    """The JSON name of a value's type, with its article: 'a string', 'an object', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__  # not reachable for values that came out of json.loads


def line_id(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """A file line's 'id' and what is wrong with it: (the id, None) when it is usable, else
    (None, the message)."""
    raw_id = obj.get("id")
    if "id" not in obj:
        return None, "missing 'id'"
    if not isinstance(raw_id, str):
        return None, f'\'id\' must be a string — got {json_type(raw_id)}; write "id": "..."'
    if problem := text_problem(raw_id, TextKind.NAME):
        return None, f"'id' {problem}"
    if not raw_id.strip():
        return None, "'id' is empty"
    return raw_id, None


@dataclass(frozen=True)
class LineError:
    """A problem on one line of a file. `line` is 1-based; 0 means the file as a whole."""

    line: int
    item_id: str | None
    message: str

    def render(self, source: str | None = None) -> str:
        """'gold.jsonl line 12 (id 't1-0004'): message' — every part present only when known."""
        where = [source] if source else []
        if self.line > 0:
            where.append(f"line {self.line}")
        if self.item_id is not None:
            where.append(f"(id {show_id(self.item_id)})")
        return f"{' '.join(where)}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self.render()


def render_errors(
    errors: Sequence[LineError], *, total: int | None = None, source: str | None = None
) -> list[str]:
    """One line per error, then '… and N more errors' when `total` exceeds what is listed."""
    lines = [error.render(source) for error in errors]
    hidden = (total if total is not None else len(errors)) - len(errors)
    if hidden > 0:
        lines.append(f"… and {hidden:,} more error{'s' if hidden != 1 else ''}")
    return lines
