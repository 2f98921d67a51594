"""Strict parsing of a judge's reply into one rating per rubric dimension.

What is accepted (anything else raises `MalformedReply`, and the client re-asks the judge; a
reply that never parses becomes a judge error — never a rating of NO or 0):

* The reply is one JSON object, optionally surrounded by prose or ```json fences, provided
  exactly one JSON object can be extracted from it. Two objects are ambiguous and rejected, even
  if they are equal.
* Every dimension id of the rubric is present, and no other key: an unknown key means the judge
  answered a different rubric (or was steered by the candidate), so the reply is not trusted.
* Binary dimensions: the strings "YES" / "NO", case-insensitive, surrounding whitespace ignored.
  Booleans and numbers are rejected — the schema we send asks for the strings, so anything else
  means the judge did not follow the format.
* Ordinal dimensions: an integer 0..max_value. A float with no fractional part (2.0) and a string
  of digits ("2") are accepted as that integer because some servers serialise numbers that way;
  booleans, fractional floats, negative numbers and other strings are rejected.

Reasons never quote the prompt; they quote at most a short prefix of an offending value.
"""

import json
from typing import Any

from app.rubrics.model import DimensionKind, Rubric


class MalformedReply(ValueError):
    """The judge's reply cannot be read as a complete rating; the message says why."""


_DECODER = json.JSONDecoder()


def parse_reply(text: str, rubric: Rubric) -> dict[str, int]:
    obj = extract_json_object(text)
    missing, unknown = rubric.key_mismatch(obj)
    if missing:
        raise MalformedReply(f"missing dimension(s): {', '.join(missing)}")
    if unknown:
        shown = ", ".join(_short(k) for k in unknown[:5])
        raise MalformedReply(f"unknown key(s): {shown}")

    ratings: dict[str, int] = {}
    for dim in rubric.dimensions:
        value = obj[dim.id]
        if dim.kind is DimensionKind.BINARY:
            ratings[dim.id] = _binary(dim.id, value)
        else:
            ratings[dim.id] = _ordinal(dim.id, value, dim.max_value)
    return ratings


def extract_json_object(text: str) -> dict[str, Any]:
    """The one JSON object in `text`: the whole text, or the only object found inside prose."""
    stripped = text.strip()
    if not stripped:
        raise MalformedReply("empty reply")
    try:
        whole = json.loads(stripped)
    except ValueError:
        pass
    else:
        if isinstance(whole, dict):
            return whole
        raise MalformedReply(f"reply is JSON but not an object ({type(whole).__name__})")

    # Scan for top-level objects: after decoding one, continue past its end so that objects
    # nested inside it are not counted again. Fences and prose are simply skipped over.
    found: list[dict[str, Any]] = []
    index = stripped.find("{")
    while index != -1:
        try:
            value, end = _DECODER.raw_decode(stripped, index)
        except ValueError:
            index = stripped.find("{", index + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
            if len(found) > 1:
                raise MalformedReply("more than one JSON object in the reply")
        index = stripped.find("{", end)
    if not found:
        raise MalformedReply("no JSON object in the reply")
    return found[0]


def _binary(dim_id: str, value: Any) -> int:
    if isinstance(value, str):
        word = value.strip().upper()
        if word == "YES":
            return 1
        if word == "NO":
            return 0
    raise MalformedReply(f'{dim_id}: expected "YES" or "NO", got {_short(value)}')


def _ordinal(dim_id: str, value: Any, max_value: int) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None  # bool is an int subclass; true/false is not a rating
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None:
        raise MalformedReply(f"{dim_id}: expected an integer 0..{max_value}, got {_short(value)}")
    if not 0 <= number <= max_value:
        raise MalformedReply(f"{dim_id}: {number} is outside 0..{max_value}")
    return number


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
