"""The one rule for text the service stores or echoes, and the bounds on JSON nesting and ids.

PostgreSQL refuses NUL in text and JSONB; half of a UTF-16 surrogate pair (which JSON's "\\ud800"
escape can produce) cannot be encoded as UTF-8 at all; other control characters corrupt pages,
logs and CSV exports; invisible formatting characters (bidi overrides, zero-width spaces) make
two different ids or names look the same. Each check answers *what* is wrong and *where* (the
character's code point and 1-based position), so every caller can name its field or line.
"""

import json
import re
import sys
import unicodedata
from enum import Enum
from typing import Any

# Row ids (submissions, runs, rejudges) are 32-bit integer columns: a larger number names no row
# and would fail in the database, so every id a user sends is bounded to this first.
MAX_ROW_ID = 2**31 - 1
# The deepest nesting of JSON arrays/objects a file line or request body may have. A prediction
# line is one flat object; gold `targets`/`evidence` are shallow. Deeper input is refused.
MAX_JSON_DEPTH = 32

REPLACEMENT = "\ufffd"

_SURROGATES = "\ud800-\udfff"
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls but tab, LF and CR
_LINE_BREAKS = "\t\n\r"
# Invisible formatting characters (Unicode category Cf) that matter in identifiers: bidi
# controls, zero-width space/joiners, word joiner, byte-order mark, soft hyphen.
_FORMAT = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"


class TextKind(Enum):
    """How strict a field is. TEXT: free text, line breaks and tabs allowed (a prediction, a
    description, a note). LINE: one line of text (an organisation, a URL, a file name). NAME: an
    identifier shown and compared as-is (an item id, a model name): one line, nothing invisible."""

    TEXT = re.compile(f"[{_SURROGATES}{_CONTROLS}]")
    LINE = re.compile(f"[{_SURROGATES}{_CONTROLS}{_LINE_BREAKS}]")
    NAME = re.compile(f"[{_SURROGATES}{_CONTROLS}{_LINE_BREAKS}{_FORMAT}]")


_HINTS = {
    TextKind.TEXT: "write plain text (line breaks and tabs are fine)",
    TextKind.LINE: "write plain text on one line",
    TextKind.NAME: "use plain visible characters on one line",
}
_CONTROL_NAMES = {0: "NUL", 9: "TAB", 10: "LF", 13: "CR", 27: "ESC", 127: "DEL"}


def describe_character(char: str) -> str:
    """'U+0000 (NUL, a control character)', 'U+D800 (half of a UTF-16 surrogate pair)', …"""
    point = ord(char)
    code = f"U+{point:04X}"
    if 0xD800 <= point <= 0xDFFF:
        return f"{code} (half of a UTF-16 surrogate pair, not a character on its own)"
    if unicodedata.category(char) == "Cc":
        name = _CONTROL_NAMES.get(point)
        return f"{code} ({name + ', ' if name else ''}a control character)"
    name = unicodedata.name(char, "").lower()
    return f"{code} ({name + ', ' if name else ''}an invisible formatting character)"


def text_problem(value: str, kind: TextKind = TextKind.LINE) -> str | None:
    """Why `value` cannot be stored as a `kind` field — the first refused character and its
    1-based position — or None when it can."""
    found = kind.value.search(value)
    if found is None:
        return None
    return (
        f"holds {describe_character(found.group())} at character {found.start() + 1}; "
        f"{_HINTS[kind]}"
    )


def check_text(field: str, value: str, kind: TextKind = TextKind.LINE) -> str:
    """`value` unchanged, or ValueError('<field> holds … at character n; <how to fix>')."""
    problem = text_problem(value, kind)
    if problem is not None:
        raise ValueError(f"{field} {problem}")
    return value


def printable(value: str, kind: TextKind = TextKind.LINE) -> str:
    """`value` with every character `kind` refuses replaced by U+FFFD: for what is kept only to
    be shown (a rejected upload's file name and error list), so it can always be stored and
    rendered."""
    return kind.value.sub(REPLACEMENT, value)


def printable_json(value: Any) -> Any:
    """A JSON value with every string in it made `printable` (keys too; line breaks kept)."""
    if isinstance(value, str):
        return printable(value, TextKind.TEXT)
    if isinstance(value, dict):
        return {printable_json(key): printable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_json(item) for item in value]
    return value


def json_text_problem(value: Any, where: str) -> str | None:
    """The first string (key or value) inside a JSON value that TEXT refuses, as
    "<where>.key[2] holds …", or None."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        current, path = pending.pop()
        if isinstance(current, str):
            problem = text_problem(current, TextKind.TEXT)
            if problem is not None:
                return f"{path} {problem}"
        elif isinstance(current, dict):
            for key, item in reversed(current.items()):
                problem = text_problem(key, TextKind.TEXT)
                if problem is not None:
                    return f"a key in {path} {problem}"
                pending.append((item, f"{path}.{key}"))
        elif isinstance(current, list):
            pending.extend((item, f"{path}[{n}]") for n, item in reversed(list(enumerate(current))))
    return None


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a loaded JSON value (a scalar is 0), iteratively so
    no input can exhaust the stack."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            depth += 1
            deepest = max(deepest, depth)
            pending.extend((item, depth) for item in current)
    return deepest


class JsonTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(
            f"nested more than {MAX_JSON_DEPTH} levels deep — flatten the arrays and objects"
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json(text: str, position: int = 0) -> tuple[Any, int]:
    """One strict JSON value from `text` at `position`, and where it ends.

    Raises json.JSONDecodeError for bad syntax, JsonTooDeep past MAX_JSON_DEPTH, and ValueError
    for NaN/Infinity or an integer too long to read; nothing else.
    """
    try:
        value, end = _DECODER.raw_decode(text, position)
    except RecursionError:
        raise JsonTooDeep() from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        if "digits" not in str(exc):
            raise
        raise ValueError(  # Python's own message suggests changing the interpreter's limit
            f"a number has more than {sys.get_int_max_str_digits():,} digits"
        ) from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise JsonTooDeep()
    return value, end


def load_json(text: str) -> Any:
    """The one JSON value `text` holds (whitespace around it allowed), checked as decode_json."""
    start = len(text) - len(text.lstrip(" \t\r\n"))
    value, end = decode_json(text, start)
    rest = text[end:].strip(" \t\r\n")
    if rest:
        raise json.JSONDecodeError("Extra data", text, len(text) - len(text[end:].lstrip()))
    return value
