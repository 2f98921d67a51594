"""The one prediction-file validator, shared by the server and the submit CLI (docs/formats.md).

The CLI runs it without gold ids before uploading, so a developer sees the same messages
locally that the server would give; the server runs it again with the gold ids. Every problem is
collected (not just the first), each naming its line and id, and the first `max_errors` are kept
for display. Messages never quote prediction text, only its length: it can be huge.
"""

import re
import zlib
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json import JSONDecodeError
from typing import Any

from app.formats.errors import LineError, json_type, line_id, render_errors, show_id
from app.formats.text import TextKind, decode_json, load_json, text_problem
from app.tracks import Track

DEFAULT_MAX_PREDICTION_CHARS = 8000
DEFAULT_MAX_ERRORS = 20
GZIP_MAGIC = b"\x1f\x8b"

_BOM = b"\xef\xbb\xbf"
_NEWLINE = re.compile("\n")
_TRACKS = ", ".join(t.value for t in Track)
_SHAPE = '{"id": "...", "prediction": "..."}'
_PREDICTION_HINTS = {
    "a list": "join the parts into one string",
    "an object": "put the answer text itself here",
    "null": 'write "" or leave the item out',
}


class PredictionFileTooLarge(ValueError):
    """The decompressed content exceeds the upload limit; the caller answers 413."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the file is larger than {limit:,} bytes once decompressed, the upload limit — "
            "split it into one file per track"
        )


class InvalidGzip(ValueError):
    """The content starts like gzip but does not decompress."""


@dataclass(frozen=True)
class PredictionFile:
    """What a prediction file held. `predictions` is filled only from lines without errors."""

    predictions: dict[Track, dict[str, str]]  # track -> item id -> prediction text
    errors: list[LineError]  # the first max_errors problems, in file order
    error_count: int  # all problems, listed or not
    line_count: int  # records read: non-blank JSONL lines or JSON array elements
    filename: str = "predictions"

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def answered(self, track: Track) -> int:
        """Predictions with some text: an empty or whitespace-only one counts as missing."""
        return sum(1 for text in self.predictions.get(track, {}).values() if text.strip())

    def empty(self, track: Track) -> int:
        """Empty or whitespace-only predictions: never judged, scored 0 like a missing item."""
        return sum(1 for text in self.predictions.get(track, {}).values() if not text.strip())

    def report(self) -> str:
        """A summary line, then one line per listed error and the count of the rest."""
        if self.ok:
            counts = ", ".join(f"{t.value}: {len(p):,}" for t, p in self.predictions.items())
            return f"{self.filename}: valid — {counts or 'no predictions'}"
        noun = "error" if self.error_count == 1 else "errors"
        header = f"{self.filename}: {self.error_count:,} {noun}; the file was not accepted"
        body = render_errors(self.errors, total=self.error_count, source=self.filename)
        return "\n".join([header, *body])


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """The content of an upload, at most `limit` bytes: gunzipped if it is gzip, else unchanged.

    Detects gzip by its magic bytes, whatever the file is called. Raises PredictionFileTooLarge
    once the content passes `limit` (a gzip bomb never expands in memory beyond limit + 1 bytes);
    that is its only exception. Corrupt gzip is returned unchanged so that parse_predictions
    reports it with the other validation errors, leaving callers one error path.
    """
    if not data.startswith(GZIP_MAGIC):
        if len(data) > limit:
            raise PredictionFileTooLarge(limit)
        return data
    try:
        return _gunzip(data, limit)
    except InvalidGzip:
        return data


def parse_predictions(
    data: bytes,
    *,
    filename: str,
    track: Track | None,
    gold_ids: Mapping[str, Track] | None,
    max_prediction_chars: int = DEFAULT_MAX_PREDICTION_CHARS,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_decompressed_bytes: int | None = None,
) -> PredictionFile:
    """Validate an uploaded prediction file (JSONL or a JSON array, optionally gzip).

    `track` is the upload's track; None means a multi-track file whose every line names its
    track. Without `gold_ids` (the CLI), unknown ids and ids of another track cannot be checked.
    The caller enforces the upload size while streaming; `max_decompressed_bytes` additionally
    bounds gzip expansion here and raises PredictionFileTooLarge.
    """
    checker = _Checker(
        track=track,
        gold_ids=gold_ids,
        max_prediction_chars=max_prediction_chars,
        max_errors=max_errors,
    )
    if data.startswith(GZIP_MAGIC):
        try:
            data = _gunzip(data, max_decompressed_bytes)
        except InvalidGzip as exc:
            checker.error(0, None, f"{exc} — compress the file again, or upload it uncompressed")
            return checker.result(filename)
    offset = len(_BOM) if data.startswith(_BOM) else 0
    body = data[offset:]
    if not body.strip():
        checker.error(0, None, f"the file is empty — expected one {_SHAPE} per line")
    elif body.lstrip()[:1] == b"[":
        _read_array(body, offset, checker)
    else:
        _read_jsonl(body, offset, checker)
    return checker.result(filename)


class _Checker:
    """Applies the per-record rules and collects errors (all counted, the first few kept)."""

    def __init__(
        self,
        *,
        track: Track | None,
        gold_ids: Mapping[str, Track] | None,
        max_prediction_chars: int,
        max_errors: int,
    ) -> None:
        self.track = track
        self.gold_ids = gold_ids
        self.max_prediction_chars = max_prediction_chars
        self.max_errors = max_errors
        self.errors: list[LineError] = []
        self.error_count = 0
        self.line_count = 0
        self.first_line: dict[str, int] = {}
        self.predictions: dict[Track, dict[str, str]] = {}

    def error(self, line: int, item_id: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(LineError(line, item_id, message))

    def result(self, filename: str) -> PredictionFile:
        if self.line_count == 0 and self.error_count == 0:
            self.error(0, None, f"the file holds no predictions — expected one {_SHAPE} per line")
        return PredictionFile(
            predictions=self.predictions,
            errors=self.errors,
            error_count=self.error_count,
            line_count=self.line_count,
            filename=filename,
        )

    def record(self, obj: Any, line: int) -> None:
        self.line_count += 1
        if not isinstance(obj, dict):
            self.error(line, None, f"expected a JSON object like {_SHAPE} — got {json_type(obj)}")
            return
        item_id, id_problem = line_id(obj)
        before = self.error_count

        def fail(message: str) -> None:
            self.error(line, item_id, message)

        if id_problem is not None:
            fail(id_problem)

        prediction = obj.get("prediction")
        if "prediction" not in obj:
            fail('missing \'prediction\' — add "prediction": "<your answer>"')
        elif not isinstance(prediction, str):
            kind = json_type(prediction)
            hint = _PREDICTION_HINTS.get(kind, "write the answer as text")
            fail(f"'prediction' must be a string — got {kind}; {hint}")
        elif len(prediction) > self.max_prediction_chars:
            fail(
                f"prediction is {len(prediction):,} characters; "
                f"the limit is {self.max_prediction_chars:,} — shorten it"
            )
        elif problem := text_problem(prediction, TextKind.TEXT):
            fail(f"'prediction' {problem}")

        line_track = self._line_track(obj, fail)

        if item_id is not None:
            if item_id in self.first_line:
                fail(
                    f"duplicate id — first seen on line {self.first_line[item_id]}; "
                    "keep one prediction per item"
                )
            else:
                self.first_line[item_id] = line
                self._check_gold(item_id, line_track, fail)

        if self.error_count == before and item_id is not None and line_track is not None:
            assert isinstance(prediction, str)
            self.predictions.setdefault(line_track, {})[item_id] = prediction

    def _line_track(self, obj: dict[str, Any], fail: Callable[[str], None]) -> Track | None:
        """The track this line counts for: the upload's, or the line's own in a multi-track file."""
        if "track" not in obj:
            if self.track is None:
                fail(
                    f"missing 'track' — with no track chosen for the upload, every line must "
                    f"name its track ({_TRACKS})"
                )
            return self.track
        value = obj["track"]
        if not (isinstance(value, str) and value in Track.__members__):
            got = show_id(value) if isinstance(value, str) else json_type(value)
            fail(f"'track' must be one of {_TRACKS} — got {got}")
            return None
        line_track = Track(value)
        if self.track is not None and line_track is not self.track:
            fail(
                f"'track' is {line_track.value} but this upload is for {self.track.value} — "
                f"remove the line or upload it under {line_track.value}"
            )
            return None
        return line_track

    def _check_gold(
        self, item_id: str, line_track: Track | None, fail: Callable[[str], None]
    ) -> None:
        if self.gold_ids is None:
            return
        gold_track = self.gold_ids.get(item_id)
        if gold_track is None:
            fail("unknown id — no gold item has this id; check it against the benchmark's ids")
        elif line_track is not None and gold_track is not line_track:
            fail(
                f"id {show_id(item_id)} belongs to track {gold_track.value}, not {line_track.value}"
            )


def _utf8_error(exc: UnicodeDecodeError, chunk: bytes, chunk_offset: int) -> str:
    return (
        f"not valid UTF-8 (byte 0x{chunk[exc.start]:02x} at byte offset "
        f"{chunk_offset + exc.start:,}) — save the file as UTF-8"
    )


def _read_jsonl(body: bytes, offset: int, checker: _Checker) -> None:
    line_start = offset
    for number, raw in enumerate(body.split(b"\n"), start=1):
        start, line_start = line_start, line_start + len(raw) + 1
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            checker.line_count += 1
            checker.error(number, None, _utf8_error(exc, raw, start))
            continue
        try:
            obj = load_json(text)
        except JSONDecodeError as exc:
            checker.line_count += 1
            checker.error(
                number,
                None,
                f"not valid JSON ({exc.msg} at column {exc.colno}) — "
                f"each line must be one complete JSON object like {_SHAPE}",
            )
            continue
        except ValueError as exc:  # too deep, NaN/Infinity, or an integer too long to read
            checker.line_count += 1
            checker.error(number, None, f"not valid JSON ({exc})")
            continue
        checker.record(obj, number)


def _read_array(body: bytes, offset: int, checker: _Checker) -> None:
    """Walk a JSON array element by element so each error names the element's line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        checker.error(line, None, _utf8_error(exc, body, offset))
        return
    newlines = [match.start() for match in _NEWLINE.finditer(text)]

    def line_of(position: int) -> int:
        return bisect_left(newlines, position) + 1

    def syntax(position: int, message: str) -> None:
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        checker.error(line_of(position), None, f"{message} (column {column})")

    position = _skip_space(text, text.index("[") + 1)
    if position < len(text) and text[position] == "]":
        position += 1
    else:
        while True:
            try:
                obj, end = decode_json(text, position)
            except JSONDecodeError as exc:
                syntax(exc.pos, f"not valid JSON: {exc.msg}")
                return
            except ValueError as exc:
                syntax(position, f"not valid JSON: {exc}")
                return
            checker.record(obj, line_of(position))
            position = _skip_space(text, end)
            if position >= len(text):
                syntax(position, "the JSON array is not closed — add ']' at the end")
                return
            if text[position] == "]":
                position += 1
                break
            if text[position] != ",":
                syntax(position, "expected ',' or ']' after an array element")
                return
            position = _skip_space(text, position + 1)
    position = _skip_space(text, position)
    if position < len(text):
        syntax(position, "unexpected text after the JSON array's closing ']'")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _gunzip(data: bytes, limit: int | None) -> bytes:
    out = bytearray()
    pending = data
    while pending:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
        try:
            while True:
                room = 0 if limit is None else limit - len(out) + 1
                chunk = decompressor.decompress(pending, room)
                out += chunk
                if limit is not None and len(out) > limit:
                    raise PredictionFileTooLarge(limit)
                pending = decompressor.unconsumed_tail
                if decompressor.eof or (not chunk and not pending):
                    break
        except zlib.error as exc:
            raise InvalidGzip(f"not a valid gzip file ({exc})") from exc
        if not decompressor.eof:
            raise InvalidGzip("the gzip file is truncated")
        pending = decompressor.unused_data
        if pending and not pending.startswith(GZIP_MAGIC):
            if pending.strip(b"\x00"):
                raise InvalidGzip("unexpected data after the end of the gzip stream")
            break
    return bytes(out)
