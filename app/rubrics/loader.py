"""Load and validate rubric files (TOML, one per track) into `Rubric` values.

A rubric's identity is the sha256 of its text, so the same bytes always load to the same version
and any edit — a criterion, a weight, a word of the prompt — makes a new one. The text is kept on
the rubric (`source`) so a stored version can be re-parsed exactly.

Validation is strict and every message names the file and the field at fault, because a rubric
error found at judging time would silently change scores.
"""

import functools
import hashlib
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from app.rubrics.model import Dimension, DimensionKind, Gate, PromptTemplate, Rubric
from app.tracks import Track

_T = TypeVar("_T")

KNOWN_RULES = frozenset({"weighted_mean"})
KNOWN_PLACEHOLDERS = frozenset(
    {"question", "reference_answer", "aliases", "targets", "criteria", "output_format", "candidate"}
)
REFERENCE_OPEN = "<<<REFERENCE>>>"
REFERENCE_CLOSE = "<<<END REFERENCE>>>"

_ID = re.compile(r"[a-z][a-z0-9_]*")
# Anything shaped like a placeholder, so a typo such as {{ question }} or {{Question}} is reported
# instead of being sent to the judge verbatim.
_PLACEHOLDER_LIKE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

_TOP_KEYS = frozenset({"track", "title", "rule", "dimensions", "gate", "prompt"})
_DIMENSION_KEYS = frozenset({"id", "name", "kind", "weight", "criterion", "max_value", "anchors"})
_GATE_KEYS = frozenset({"dimension", "cap"})
_PROMPT_KEYS = frozenset({"system", "user"})


class RubricError(ValueError):
    """A rubric file is unusable; the message names the file (origin) and the field."""


def parse_rubric(text: str, *, origin: str) -> Rubric:
    """Parse and validate rubric TOML. `origin` names the source in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{origin}: not valid TOML: {exc}") from exc
    return _build(data, text=text, origin=origin)


def load_rubric_file(path: str | Path) -> Rubric:
    path = Path(path)
    # Decode the bytes ourselves: text-mode reads translate newlines, which would make the
    # version differ from the file's own hash.
    return parse_rubric(_decode(path.read_bytes(), path.name), origin=path.name)


@functools.cache
def bundled_rubric(track: Track) -> Rubric:
    """The rubric shipped in this package for `track` (app/rubrics/<track>.toml)."""
    track = Track(track)
    name = f"{track.value}.toml"
    raw = resources.files("app.rubrics").joinpath(name).read_bytes()
    rubric = parse_rubric(_decode(raw, name), origin=name)
    if rubric.track is not track:
        raise RubricError(f"{name}: track: file declares {rubric.track.value}, expected {track}")
    return rubric


def bundled_rubrics() -> dict[Track, Rubric]:
    return {track: bundled_rubric(track) for track in Track}


def _decode(raw: bytes, origin: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RubricError(f"{origin}: not valid UTF-8 (byte {exc.start})") from exc


def _build(data: Mapping[str, Any], *, text: str, origin: str) -> Rubric:
    _reject_unknown(data, _TOP_KEYS, origin, "top level")

    raw_track = _required(data, "track", str, origin, "track")
    try:
        track = Track(raw_track)
    except ValueError:
        known = ", ".join(t.value for t in Track)
        raise RubricError(
            f"{origin}: track: unknown track {raw_track!r} (known: {known})"
        ) from None

    title = _required(data, "title", str, origin, "title").strip()
    if not title:
        raise RubricError(f"{origin}: title: must not be empty")

    rule = data.get("rule", "weighted_mean")
    if not isinstance(rule, str) or rule not in KNOWN_RULES:
        raise RubricError(
            f"{origin}: rule: unknown rule {rule!r} (known: {', '.join(sorted(KNOWN_RULES))})"
        )

    raw_dimensions = data.get("dimensions")
    if not isinstance(raw_dimensions, list) or not raw_dimensions:
        raise RubricError(f"{origin}: dimensions: at least one [[dimensions]] entry is required")
    dimensions = tuple(_dimension(raw, i, origin) for i, raw in enumerate(raw_dimensions))
    seen: set[str] = set()
    for dim in dimensions:
        if dim.id in seen:
            raise RubricError(f"{origin}: dimension '{dim.id}': duplicate id")
        seen.add(dim.id)

    gate = _gate(data.get("gate"), dimensions, origin)
    prompt = _prompt(data.get("prompt"), origin)

    return Rubric(
        track=track,
        title=title,
        dimensions=dimensions,
        prompt=prompt,
        gate=gate,
        rule=rule,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=text,
    )


def _dimension(raw: Any, index: int, origin: str) -> Dimension:
    if not isinstance(raw, dict):
        raise RubricError(f"{origin}: dimensions[{index}]: must be a table")
    raw_id = raw.get("id")
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        raise RubricError(
            f"{origin}: dimensions[{index}]: id: must match [a-z][a-z0-9_]*, got {raw_id!r}"
        )
    where = f"dimension '{raw_id}'"
    _reject_unknown(raw, _DIMENSION_KEYS, origin, where)

    name = _required(raw, "name", str, origin, f"{where}: name").strip()
    criterion = _required(raw, "criterion", str, origin, f"{where}: criterion").strip()
    if not name:
        raise RubricError(f"{origin}: {where}: name: must not be empty")
    if not criterion:
        raise RubricError(f"{origin}: {where}: criterion: must not be empty")

    raw_kind = _required(raw, "kind", str, origin, f"{where}: kind")
    try:
        kind = DimensionKind(raw_kind)
    except ValueError:
        known = ", ".join(k.value for k in DimensionKind)
        raise RubricError(
            f"{origin}: {where}: kind: unknown kind {raw_kind!r} (known: {known})"
        ) from None

    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise RubricError(f"{origin}: {where}: weight must be a number > 0, got {weight!r}")
    if weight == float("inf"):
        raise RubricError(f"{origin}: {where}: weight must be finite")

    max_value = raw.get("max_value", 1)
    if isinstance(max_value, bool) or not isinstance(max_value, int):
        raise RubricError(f"{origin}: {where}: max_value must be an integer, got {max_value!r}")

    raw_anchors = raw.get("anchors", {})
    if not isinstance(raw_anchors, dict):
        raise RubricError(f"{origin}: {where}: anchors must be a table of value = description")

    anchors: dict[int, str] = {}
    if kind is DimensionKind.BINARY:
        if max_value != 1:
            raise RubricError(f"{origin}: {where}: max_value must be 1 for a binary dimension")
        if raw_anchors:
            raise RubricError(f"{origin}: {where}: anchors are only allowed on ordinal dimensions")
    else:
        if max_value < 1:
            raise RubricError(f"{origin}: {where}: max_value must be ≥ 1")
        expected = {str(v) for v in range(max_value + 1)}
        if set(raw_anchors) != expected:
            raise RubricError(
                f"{origin}: {where}: anchors must describe exactly the values 0..{max_value}, "
                f"got {sorted(raw_anchors)}"
            )
        for key, description in raw_anchors.items():
            if not isinstance(description, str) or not description.strip():
                raise RubricError(f"{origin}: {where}: anchors.{key} must be a non-empty string")
            anchors[int(key)] = description.strip()
        anchors = dict(sorted(anchors.items(), reverse=True))  # shown to the judge best-first

    return Dimension(
        id=raw_id,
        name=name,
        kind=kind,
        weight=float(weight),
        criterion=criterion,
        max_value=max_value,
        anchors=anchors,
    )


def _gate(raw: Any, dimensions: tuple[Dimension, ...], origin: str) -> Gate | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RubricError(f"{origin}: gate: must be a table")
    _reject_unknown(raw, _GATE_KEYS, origin, "gate")
    name = _required(raw, "dimension", str, origin, "gate: dimension")
    dim = next((d for d in dimensions if d.id == name), None)
    if dim is None:
        raise RubricError(f"{origin}: gate: dimension {name!r} is not a dimension of this rubric")
    if dim.kind is not DimensionKind.BINARY:
        raise RubricError(f"{origin}: gate: dimension {name!r} must be binary")
    cap = raw.get("cap")
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 <= cap <= 1:
        raise RubricError(f"{origin}: gate: cap must be a number in [0, 1], got {cap!r}")
    return Gate(dimension=name, cap=float(cap))


def _prompt(raw: Any, origin: str) -> PromptTemplate:
    if not isinstance(raw, dict):
        raise RubricError(f"{origin}: prompt: a [prompt] table with system and user is required")
    _reject_unknown(raw, _PROMPT_KEYS, origin, "prompt")
    system = _required(raw, "system", str, origin, "prompt: system")
    user = _required(raw, "user", str, origin, "prompt: user")

    for field_name, template in (("system", system), ("user", user)):
        for match in _PLACEHOLDER_LIKE.finditer(template):
            if match.group(1) not in KNOWN_PLACEHOLDERS:
                known = ", ".join("{{" + p + "}}" for p in sorted(KNOWN_PLACEHOLDERS))
                raise RubricError(
                    f"{origin}: prompt.{field_name}: unknown placeholder {match.group(0)!r} "
                    f"(known: {known})"
                )
    if "{{candidate}}" in system:
        raise RubricError(f"{origin}: prompt.system: {{{{candidate}}}} belongs in prompt.user")
    if user.count("{{candidate}}") != 1:
        raise RubricError(f"{origin}: prompt.user: must contain {{{{candidate}}}} exactly once")
    _check_reference_blocks(user, origin)
    return PromptTemplate(system=system, user=user)


def _check_reference_blocks(user: str, origin: str) -> None:
    """Reference material must sit in well-formed <<<REFERENCE>>> blocks, the candidate outside.

    The judge is told that only these blocks are gold, and the stand-in judge reads them.
    """
    inside = False
    saw_block = False
    reference_inside = False
    for line in user.splitlines():
        marker = line.strip()
        if marker == REFERENCE_OPEN:
            if inside:
                raise RubricError(f"{origin}: prompt.user: nested {REFERENCE_OPEN} line")
            inside, saw_block = True, True
        elif marker == REFERENCE_CLOSE:
            if not inside:
                raise RubricError(f"{origin}: prompt.user: {REFERENCE_CLOSE} without an opening")
            inside = False
        elif inside:
            if "{{candidate}}" in line:
                raise RubricError(
                    f"{origin}: prompt.user: {{{{candidate}}}} must not be inside a reference block"
                )
            reference_inside = reference_inside or "{{reference_answer}}" in line
    if inside:
        raise RubricError(f"{origin}: prompt.user: unclosed {REFERENCE_OPEN} block")
    if not saw_block or not reference_inside:
        raise RubricError(
            f"{origin}: prompt.user: {{{{reference_answer}}}} must be inside a "
            f"{REFERENCE_OPEN} … {REFERENCE_CLOSE} block"
        )


def _required(data: Mapping[str, Any], key: str, kind: type[_T], origin: str, where: str) -> _T:
    value = data.get(key)
    if value is None:
        raise RubricError(f"{origin}: {where}: missing")
    if not isinstance(value, kind):
        raise RubricError(f"{origin}: {where}: must be a {kind.__name__}, got {value!r}")
    return value


def _reject_unknown(
    data: Mapping[str, Any], allowed: frozenset[str], origin: str, where: str
) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RubricError(f"{origin}: {where}: unknown field(s) {', '.join(unknown)}")
