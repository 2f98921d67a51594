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
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from app.resources import resource_path
from app.rubrics.model import (
    ALWAYS_SHOWN,
    SHOWABLE_FIELDS,
    TEXT_FIELDS,
    Dimension,
    DimensionKind,
    Gate,
    Implication,
    PromptTemplate,
    Rubric,
)
from app.tracks import Track

_T = TypeVar("_T")

KNOWN_RULES = frozenset({"weighted_mean"})
PROMPT_PLACEHOLDERS = frozenset({"question", "criteria", "output_format", "candidate"})
KNOWN_PLACEHOLDERS = PROMPT_PLACEHOLDERS | frozenset(TEXT_FIELDS)
# In a template the reference block is untagged; rendering gives it a per-request tag.
REFERENCE_OPEN = "<<<REFERENCE>>>"
REFERENCE_CLOSE = "<<<END REFERENCE>>>"
_SECTION_HEADER = re.compile(r"\[([a-z_]+)\] \S.*")

_ID = re.compile(r"[a-z][a-z0-9_]*")
# Anything shaped like a placeholder, so a typo such as {{ question }} or {{Question}} is reported
# instead of being sent to the judge verbatim.
_PLACEHOLDER_LIKE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

_TOP_KEYS = frozenset(
    {"track", "title", "rule", "shows", "dimensions", "gate", "implies", "prompt"}
)
_IMPLIES_KEYS = frozenset({"dimension", "requires"})
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
    raw = (resource_path("rubrics") / name).read_bytes()
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


E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E], raw: str, origin: str, where: str) -> E:
    """`raw` as a member of `enum`, or an error naming the known values."""
    try:
        return enum(raw)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        noun = where.rsplit(": ", 1)[-1]
        raise RubricError(f"{origin}: {where}: unknown {noun} {raw!r} (known: {known})") from None


def _build(data: Mapping[str, Any], *, text: str, origin: str) -> Rubric:
    _reject_unknown(data, _TOP_KEYS, origin, "top level")

    track = _choice(Track, _required(data, "track", str, origin, "track"), origin, "track")

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
    shows = _shows(data.get("shows", []), origin)
    implies = _implies(data.get("implies", []), dimensions, origin)
    prompt = _prompt(data.get("prompt"), shows, origin)

    return Rubric(
        track=track,
        title=title,
        dimensions=dimensions,
        prompt=prompt,
        gate=gate,
        shows=shows,
        implies=implies,
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
    kind = _choice(DimensionKind, raw_kind, origin, f"{where}: kind")

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

    for part, text in (
        ("name", name),
        ("criterion", criterion),
        *((f"anchors.{value}", description) for value, description in anchors.items()),
    ):
        found = _PLACEHOLDER_LIKE.search(text)
        if found:
            raise RubricError(
                f"{origin}: {where}: {part}: {found.group(0)!r} would reach the judge as written "
                "(criteria are not templates); placeholders belong in the [prompt] templates"
            )

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


def _shows(raw: Any, origin: str) -> tuple[str, ...]:
    known = ", ".join(SHOWABLE_FIELDS)
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise RubricError(f"{origin}: shows: must be a list of gold field names (known: {known})")
    for name in raw:
        if name not in SHOWABLE_FIELDS:
            hint = " (always shown)" if name in ALWAYS_SHOWN else ""
            raise RubricError(
                f"{origin}: shows: unknown gold field {name!r}{hint} (known: {known})"
            )
    if len(set(raw)) != len(raw):
        raise RubricError(f"{origin}: shows: a field is listed twice")
    return tuple(raw)


def _implies(raw: Any, dimensions: tuple[Dimension, ...], origin: str) -> tuple[Implication, ...]:
    if not isinstance(raw, list):
        raise RubricError(f"{origin}: implies: must be a list of [[implies]] tables")
    by_id = {d.id: d for d in dimensions}
    rules: list[Implication] = []
    for index, entry in enumerate(raw):
        where = f"implies[{index}]"
        if not isinstance(entry, dict):
            raise RubricError(f"{origin}: {where}: must be a table")
        _reject_unknown(entry, _IMPLIES_KEYS, origin, where)
        name = _required(entry, "dimension", str, origin, f"{where}: dimension")
        requires = entry.get("requires")
        if not isinstance(requires, list) or not requires:
            raise RubricError(f"{origin}: {where}: requires: must be a non-empty list of ids")
        for dim_id in (name, *requires):
            dim = by_id.get(dim_id) if isinstance(dim_id, str) else None
            if dim is None:
                raise RubricError(
                    f"{origin}: {where}: {dim_id!r} is not a dimension of this rubric"
                )
            if dim.kind is not DimensionKind.BINARY:
                raise RubricError(f"{origin}: {where}: dimension {dim_id!r} must be binary")
        rules.append(Implication(dimension=name, requires=tuple(requires)))
    return tuple(rules)


def _prompt(raw: Any, shows: tuple[str, ...], origin: str) -> PromptTemplate:
    if not isinstance(raw, dict):
        raise RubricError(f"{origin}: prompt: a [prompt] table with system and user is required")
    _reject_unknown(raw, _PROMPT_KEYS, origin, "prompt")
    system = _required(raw, "system", str, origin, "prompt: system")
    user = _required(raw, "user", str, origin, "prompt: user")

    shown = set(ALWAYS_SHOWN) | set(shows)
    for field_name, template in (("system", system), ("user", user)):
        for match in _PLACEHOLDER_LIKE.finditer(template):
            name = match.group(1)
            if name not in KNOWN_PLACEHOLDERS:
                known = ", ".join("{{" + p + "}}" for p in sorted(KNOWN_PLACEHOLDERS))
                raise RubricError(
                    f"{origin}: prompt.{field_name}: unknown placeholder {match.group(0)!r} "
                    f"(known: {known})"
                )
            if name in TEXT_FIELDS and name not in shown:
                raise RubricError(
                    f"{origin}: prompt.{field_name}: placeholder {match.group(0)!r} names gold "
                    f"field {name!r}, which this rubric does not declare: add it to shows "
                    f"(declared: {', '.join(sorted(shown))})"
                )
    if "{{candidate}}" in system:
        raise RubricError(f"{origin}: prompt.system: {{{{candidate}}}} belongs in prompt.user")
    if user.count("{{candidate}}") != 1:
        raise RubricError(f"{origin}: prompt.user: must contain {{{{candidate}}}} exactly once")
    for name in ("criteria", "output_format"):
        placeholder = "{{" + name + "}}"
        if (system + user).count(placeholder) != 1:
            raise RubricError(
                f"{origin}: prompt: {placeholder} must appear exactly once, in prompt.system or "
                "prompt.user (the judge needs the criteria and the reply's shape)"
            )
    for name in TEXT_FIELDS:
        if "{{" + name + "}}" in system:
            raise RubricError(
                f"{origin}: prompt.system: {{{{{name}}}}} is gold and belongs in the reference "
                "block of prompt.user"
            )
    _check_reference_block(user, [f for f in TEXT_FIELDS if f in shown], origin)
    return PromptTemplate(system=system, user=user)


def _check_reference_block(user: str, fields: list[str], origin: str) -> None:
    """All gold text sits in ONE reference block of `[field] label` / `{{field}}` sections.

    The judge is told that only this block is gold, the stand-in judge reads its sections, and
    rendering tags it with a per-request nonce the candidate cannot predict.
    """
    where = f"{origin}: prompt.user"
    lines = [line.strip() for line in user.splitlines()]
    opens = [i for i, line in enumerate(lines) if line == REFERENCE_OPEN]
    closes = [i for i, line in enumerate(lines) if line == REFERENCE_CLOSE]
    if len(opens) != 1 or len(closes) != 1 or closes[0] < opens[0]:
        raise RubricError(
            f"{where}: needs exactly one {REFERENCE_OPEN} line followed by one "
            f"{REFERENCE_CLOSE} line, holding every gold field"
        )
    body = [line for line in lines[opens[0] + 1 : closes[0]] if line]
    outside = lines[: opens[0]] + lines[closes[0] + 1 :]
    for name in fields:
        placeholder = "{{" + name + "}}"
        if any(placeholder in line for line in outside):
            raise RubricError(f"{where}: {placeholder} must be inside the reference block")
        if user.count(placeholder) != 1:
            raise RubricError(
                f"{where}: declared gold field {name!r} must appear exactly once as "
                f"{placeholder} inside the reference block"
            )
    if "{{candidate}}" in "\n".join(body):
        raise RubricError(f"{where}: {{{{candidate}}}} must not be inside the reference block")
    seen: list[str] = []
    for index in range(0, len(body), 2):
        header = _SECTION_HEADER.fullmatch(body[index])
        value = body[index + 1] if index + 1 < len(body) else ""
        if header is not None and header.group(1) not in TEXT_FIELDS:
            raise RubricError(
                f"{where}: the reference block holds gold fields only; [{header.group(1)}] is "
                f"not one (gold fields: {', '.join(TEXT_FIELDS)})"
            )
        if header is None or value != "{{" + header.group(1) + "}}":
            raise RubricError(
                f"{where}: the reference block must hold sections of a header line "
                f"'[field] label' followed by a line '{{{{field}}}}'; found {body[index]!r}"
            )
        seen.append(header.group(1))
    if "reference_answer" not in seen:
        raise RubricError(f"{where}: the reference block must hold a [reference_answer] section")


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
