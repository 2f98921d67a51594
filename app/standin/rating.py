"""The stand-in's rating rule: deterministic ratings from lexical recall. Pure: no I/O.

Reading a request
-----------------
* Dimensions, in order, from the response schema's properties: a property whose `enum` holds
  integers is ordinal with the largest value as its top; an `enum` of strings ("YES"/"NO") is
  binary; `{"type": "integer", "maximum": N}` is ordinal with top N (2 without a maximum).
* The reference text: every block between a line `<<<REFERENCE tag>>>` and a line
  `<<<END REFERENCE tag>>>` (same tag, `[0-9A-Za-z]+`), or between the untagged `<<<REFERENCE>>>`
  and `<<<END REFERENCE>>>`. A block whose lines include section headers `[field] label` counts
  only its sections `reference_answer`, `aliases` and `targets` (header lines excluded; context,
  category, orpha_code and evidence are ignored, as is any text before the first header); a
  block without headers counts whole. Blocks are joined.
* The candidate: the block between `<<<CANDIDATE tag>>>` and `<<<END CANDIDATE tag>>>`.

The rule
--------
With R = set(answer_tokens(reference)) and C = set(answer_tokens(candidate)) (SQuAD
normalisation), recall = |C ∩ R| / |R| (0 when R is empty). Dimension i of n (0-based) has the
threshold tᵢ = 0.15 + 0.6·i / max(n − 1, 1), so later dimensions are harder to earn:

* binary: "YES" iff recall ≥ tᵢ, else "NO";
* ordinal: the top value iff recall ≥ tᵢ, 1 iff recall ≥ tᵢ / 2, else 0.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.scoring.f1 import answer_tokens

Dimension = tuple[str, int | None]
"""A dimension id and its ordinal top value, or None for a binary (YES/NO) dimension."""

RATED_SECTIONS = frozenset({"reference_answer", "aliases", "targets"})
IGNORED_SECTIONS = frozenset({"context", "category", "orpha_code", "evidence"})
DEFAULT_ORDINAL_MAXIMUM = 2

_REFERENCE = re.compile(
    r"^[ \t]*<<<REFERENCE(?P<tag> [0-9A-Za-z]+|)>>>[ \t]*\n(?P<body>.*?)\n"
    r"[ \t]*<<<END REFERENCE(?P=tag)>>>[ \t]*$",
    re.M | re.S,
)
_CANDIDATE = re.compile(r"<<<CANDIDATE ([0-9A-Za-z]+)>>>\n(.*?)\n<<<END CANDIDATE \1>>>", re.S)
_SECTION_HEADER = re.compile(
    r"^\[(?P<field>" + "|".join(sorted(RATED_SECTIONS | IGNORED_SECTIONS)) + r")\](?:[ \t].*)?$"
)


def dimensions_from_schema(properties: Mapping[str, Any]) -> list[Dimension]:
    """The dimensions a response schema's `properties` declare; ValueError names a bad one."""
    if not properties:
        raise ValueError("response_format schema has no properties")
    dims: list[Dimension] = []
    for dim_id, schema in properties.items():
        if not isinstance(schema, dict):
            raise ValueError(f"property {dim_id!r} must be a JSON schema object")
        if "enum" in schema:
            dims.append((dim_id, _enum_maximum(dim_id, schema["enum"])))
        elif schema.get("type") == "integer":
            maximum = schema.get("maximum", DEFAULT_ORDINAL_MAXIMUM)
            is_int = isinstance(maximum, int) and not isinstance(maximum, bool)
            dims.append((dim_id, maximum if is_int else DEFAULT_ORDINAL_MAXIMUM))
        else:
            raise ValueError(f"property {dim_id!r} is neither an enum nor an integer")
    return dims


def _enum_maximum(dim_id: str, enum: object) -> int | None:
    """None (binary) for an enum of strings; the largest value for an enum of integers."""
    if isinstance(enum, list) and enum:
        if all(isinstance(v, str) for v in enum):
            return None
        if all(isinstance(v, int) and not isinstance(v, bool) for v in enum):
            return max(enum)
    raise ValueError(
        f"property {dim_id!r}: enum must be a non-empty list of strings (binary) or of integers "
        f"(ordinal), got {enum!r}"
    )


def reference_text(user_text: str) -> str:
    """The text rated against: every reference block's rated part, joined by newlines."""
    return "\n".join(_rated_part(m.group("body")) for m in _REFERENCE.finditer(user_text))


def _rated_part(block: str) -> str:
    lines = block.split("\n")
    if not any(_SECTION_HEADER.match(line) for line in lines):
        return block
    kept: list[str] = []
    section: str | None = None
    for line in lines:
        header = _SECTION_HEADER.match(line)
        if header:
            section = header.group("field")
        elif section in RATED_SECTIONS:
            kept.append(line)
    return "\n".join(kept)


def candidate_text(user_text: str) -> str:
    match = _CANDIDATE.search(user_text)
    return match.group(2) if match else ""


def recall(reference: str, candidate: str) -> float:
    """Share of the reference's distinct answer tokens that the candidate contains."""
    reference_tokens = set(answer_tokens(reference))
    if not reference_tokens:
        return 0.0
    return len(reference_tokens & set(answer_tokens(candidate))) / len(reference_tokens)


def thresholds(n: int) -> Iterable[float]:
    return (0.15 + 0.6 * i / max(n - 1, 1) for i in range(n))


def rate(dimensions: Sequence[Dimension], reference: str, candidate: str) -> dict[str, str | int]:
    """The ratings the rule above gives `candidate` against `reference`."""
    share = recall(reference, candidate)
    ratings: dict[str, str | int] = {}
    for (dim_id, maximum), threshold in zip(dimensions, thresholds(len(dimensions)), strict=True):
        if maximum is None:
            ratings[dim_id] = "YES" if share >= threshold else "NO"
        elif share >= threshold:
            ratings[dim_id] = maximum
        else:
            ratings[dim_id] = 1 if share >= threshold / 2 else 0
    return ratings


def rate_prompt(dimensions: Sequence[Dimension], user_text: str) -> dict[str, str | int]:
    """The ratings for a rendered judge prompt's user text."""
    return rate(dimensions, reference_text(user_text), candidate_text(user_text))
