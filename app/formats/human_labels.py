"""Human reliability labels: the JSONL file `mmrare human-labels import` reads.

The format is documented in docs/maintainers.md. One JSON object per line:

    {"submission_id": 12, "item_id": "t2-0003", "rater": "rater-a",
     "ratings": {"treatment_specificity": 1, "safety": "NO"}}

`ratings` holds any non-empty subset of the rubric's dimensions; a binary dimension takes 0/1 or
"NO"/"YES", an ordinal one an integer 0..max. Blank lines are skipped. Every problem is collected
with its line number (not just the first), and nothing is stored unless the whole file is valid.

The check runs in two stages, both here and both pure: `parse_human_labels(data)` alone checks
the shape of each line (what the CLI can check offline); given the submissions the file names
(their track and gold item ids) and each track's rubric, it also checks that every submission
exists, every item belongs to the submission's track, every dimension is in the rubric and every
value is on its scale, and that no label is given twice.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from json import JSONDecodeError
from typing import Any

from app.formats.errors import LineError, json_type, render_errors
from app.formats.text import MAX_ROW_ID, TextKind, load_json, text_problem
from app.rubrics.model import DimensionKind, Rubric
from app.tracks import Track

DEFAULT_MAX_ERRORS = 20
MAX_RATER_CHARS = 100
MAX_ITEM_ID_CHARS = 200
_BOM = "\ufeff"
_FIELDS = frozenset({"submission_id", "item_id", "rater", "ratings"})
_SHAPE = '{"submission_id": 12, "item_id": "...", "rater": "...", "ratings": {"dimension": 1}}'
_WORDS = {"YES": 1, "NO": 0}


@dataclass(frozen=True)
class LabelTarget:
    """What the database says about a submission a label names."""

    track: Track
    item_ids: frozenset[str]


@dataclass(frozen=True)
class HumanLabelRow:
    """One rating of one dimension; a file line with three ratings gives three rows."""

    line: int
    submission_id: int
    item_id: str
    rater: str
    dimension: str
    value: int
    track: Track | None  # known once the submissions were given


@dataclass
class HumanLabelFile:
    labels: list[HumanLabelRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)  # the first max_errors problems
    error_count: int = 0
    line_count: int = 0
    filename: str = "labels"

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def submission_ids(self) -> set[int]:
        return {row.submission_id for row in self.labels}

    def report(self) -> str:
        if self.ok:
            return (
                f"{self.filename}: valid — {len(self.labels):,} labels on {self.line_count:,} lines"
            )
        noun = "error" if self.error_count == 1 else "errors"
        header = f"{self.filename}: {self.error_count:,} {noun}; nothing was imported"
        body = render_errors(self.errors, total=self.error_count, source=self.filename)
        return "\n".join([header, *body])


class _Collector:
    def __init__(self, result: HumanLabelFile, max_errors: int) -> None:
        self.result = result
        self.max_errors = max_errors

    def add(self, line: int, message: str, item_id: str | None = None) -> None:
        self.result.error_count += 1
        if len(self.result.errors) < self.max_errors:
            self.result.errors.append(LineError(line, item_id, message))


def parse_human_labels(
    data: bytes | str,
    *,
    filename: str = "labels",
    submissions: Mapping[int, LabelTarget] | None = None,
    rubrics: Mapping[Track, Rubric] | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> HumanLabelFile:
    """Validate a label file. Without `submissions` and `rubrics` only each line's shape is
    checked; with them, every label is checked against the submission and its track's rubric."""
    result = HumanLabelFile(filename=filename)
    errors = _Collector(result, max_errors)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.add(0, f"the file is not UTF-8 text (byte {exc.start})")
            return result
    else:
        text = data
    text = text.removeprefix(_BOM)
    seen: dict[tuple[int, str, str, str], int] = {}
    rows: list[HumanLabelRow] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        result.line_count += 1
        before = result.error_count
        parsed = _parse_line(raw, number, errors)
        if parsed is None:
            continue
        submission_id, item_id, rater, ratings = parsed
        track: Track | None = None
        rubric: Rubric | None = None
        if submissions is not None:
            target = submissions.get(submission_id)
            if target is None:
                errors.add(
                    number,
                    f"submission {submission_id} does not exist or was rejected",
                    item_id,
                )
                continue
            track = target.track
            if item_id not in target.item_ids:
                errors.add(
                    number, f"item is not a {track} item of submission {submission_id}", item_id
                )
            if rubrics is not None:
                rubric = rubrics.get(track)
                if rubric is None:
                    errors.add(number, f"track {track} has no active rubric", item_id)
        line_rows: list[HumanLabelRow] = []
        for dimension, raw_value in ratings.items():
            value = _value(raw_value, dimension, rubric, number, item_id, errors)
            if value is None:
                continue
            key = (submission_id, item_id, rater, dimension)
            if key in seen:
                errors.add(
                    number,
                    f"rater {rater!r} already rated {dimension!r} of this item on line {seen[key]}",
                    item_id,
                )
                continue
            seen[key] = number
            line_rows.append(
                HumanLabelRow(number, submission_id, item_id, rater, dimension, value, track)
            )
        if result.error_count == before:
            rows.extend(line_rows)
    result.labels = rows if result.ok else []
    if result.line_count == 0 and result.ok:
        errors.add(0, f"the file has no labels; write one object per line: {_SHAPE}")
    return result


def _parse_line(
    raw: str, number: int, errors: _Collector
) -> tuple[int, str, str, dict[str, Any]] | None:
    try:
        record = load_json(raw)
    except JSONDecodeError as exc:
        errors.add(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
        return None
    except ValueError as exc:  # too deep, NaN/Infinity, or an integer too long to read
        errors.add(number, f"not valid JSON ({exc})")
        return None
    if not isinstance(record, dict):
        errors.add(number, f"expected an object like {_SHAPE}, got {json_type(record)}")
        return None
    item = record.get("item_id")
    item_problem = text_problem(item, TextKind.NAME) if isinstance(item, str) else None
    item_id = item if isinstance(item, str) and item_problem is None else None
    ok = True
    unknown = sorted(set(record) - _FIELDS)
    if unknown:
        errors.add(number, f"unknown field(s) {', '.join(unknown)}", item_id)
        ok = False
    submission_id = record.get("submission_id")
    if isinstance(submission_id, bool) or not isinstance(submission_id, int):
        errors.add(
            number,
            f"submission_id must be an integer, got {json_type(submission_id)}",
            item_id,
        )
        ok = False
    elif not 1 <= submission_id <= MAX_ROW_ID:
        errors.add(number, f"submission_id must be 1 to {MAX_ROW_ID:,}", item_id)
        ok = False
    if item_problem is not None:
        errors.add(number, f"item_id {item_problem}")
        ok = False
    elif item_id is None or not item_id.strip():
        got = "an empty string" if isinstance(item, str) else json_type(item)
        errors.add(number, f"item_id must be a non-empty string, got {got}")
        ok = False
    elif len(item_id) > MAX_ITEM_ID_CHARS:
        errors.add(number, f"item_id is longer than {MAX_ITEM_ID_CHARS} characters", item_id)
        ok = False
    rater = record.get("rater")
    if not isinstance(rater, str) or not rater.strip():
        got = "an empty string" if isinstance(rater, str) else json_type(rater)
        errors.add(
            number, f"rater must be a non-empty string naming the person, got {got}", item_id
        )
        ok = False
    elif len(rater.strip()) > MAX_RATER_CHARS:
        errors.add(number, f"rater is longer than {MAX_RATER_CHARS} characters", item_id)
        ok = False
    elif rater_problem := text_problem(rater, TextKind.NAME):
        errors.add(number, f"rater {rater_problem}", item_id)
        ok = False
    ratings = record.get("ratings")
    if not isinstance(ratings, dict) or not ratings:
        got = "an empty object" if isinstance(ratings, dict) else json_type(ratings)
        errors.add(number, f"ratings must be an object of dimension id → value, got {got}", item_id)
        ok = False
    if not ok:
        return None
    assert isinstance(submission_id, int) and isinstance(rater, str) and item_id is not None
    assert isinstance(ratings, dict)
    return submission_id, item_id, rater.strip(), ratings


def _value(
    raw: Any,
    dimension: str,
    rubric: Rubric | None,
    number: int,
    item_id: str,
    errors: _Collector,
) -> int | None:
    where = f"ratings.{dimension}"
    dim = None
    if rubric is not None:
        dim = next((d for d in rubric.dimensions if d.id == dimension), None)
        if dim is None:
            known = ", ".join(rubric.dimension_ids)
            errors.add(
                number,
                f"{where}: {rubric.track} rubric {rubric.short_version} has no dimension "
                f"{dimension!r} (known: {known})",
                item_id,
            )
            return None
    if isinstance(raw, str) and raw.strip().upper() in _WORDS:
        if dim is not None and dim.kind is not DimensionKind.BINARY:
            errors.add(
                number,
                f"{where}: {dimension!r} is ordinal (0–{dim.max_value}); give an integer, "
                "not YES/NO",
                item_id,
            )
            return None
        return _WORDS[raw.strip().upper()]
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.add(
            number, f"{where}: must be an integer (or YES/NO), got {json_type(raw)}", item_id
        )
        return None
    if dim is not None and not 0 <= raw <= dim.max_value:
        scale = "0 or 1 (NO/YES)" if dim.kind is DimensionKind.BINARY else f"0–{dim.max_value}"
        errors.add(number, f"{where}: {raw} is outside the dimension's scale {scale}", item_id)
        return None
    if dim is None and raw < 0:
        errors.add(number, f"{where}: {raw} is negative; ratings start at 0", item_id)
        return None
    return raw
