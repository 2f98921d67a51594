"""Prediction files: each rule with its exact message; encodings, forms, limits, shipped data."""

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from app.demo.synthetic import DEMO_DIR, write_synthetic_bundle, write_synthetic_predictions
from app.formats.errors import LineError
from app.formats.gold_bundle import parse_gold_bundle
from app.formats.predictions import (
    PredictionFile,
    PredictionFileTooLarge,
    gunzip_limited,
    parse_predictions,
)
from app.tracks import Track

GOLD = {
    "t1-0001": Track.T1,
    "t1-0002": Track.T1,
    "t1-0003": Track.T1,
    "t2-0001": Track.T2,
    "t3-0002": Track.T3,
}


def jsonl(*records: Any) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


def parse(
    data: bytes,
    *,
    track: Track | None = Track.T1,
    gold_ids: dict[str, Track] | None = GOLD,
    **kwargs: Any,
) -> PredictionFile:
    return parse_predictions(data, filename="preds.jsonl", track=track, gold_ids=gold_ids, **kwargs)


def only_error(result: PredictionFile) -> LineError:
    assert result.error_count == 1, result.report()
    assert not result.ok
    return result.errors[0]


# --- accepted forms ---------------------------------------------------------------------------


def test_jsonl_is_read_into_predictions_per_track() -> None:
    result = parse(
        jsonl(
            {"id": "t1-0001", "prediction": "Dyskeratosis congenita"},
            "",
            {"id": "t1-0002", "prediction": "", "model": "ignored extra field"},
        )
    )
    assert result.ok
    assert result.errors == [] and result.error_count == 0
    assert result.line_count == 2
    assert result.predictions == {Track.T1: {"t1-0001": "Dyskeratosis congenita", "t1-0002": ""}}
    # An empty prediction is accepted but counts as missing: not answered, counted as empty.
    assert result.answered(Track.T1) == 1 and result.answered(Track.T2) == 0
    assert result.empty(Track.T1) == 1 and result.empty(Track.T2) == 0
    assert result.report() == "preds.jsonl: valid — T1: 2"


def test_a_json_array_is_accepted() -> None:
    data = json.dumps(
        [{"id": "t1-0001", "prediction": "a"}, {"id": "t1-0002", "prediction": "b"}], indent=2
    ).encode()
    result = parse(data)
    assert result.ok, result.report()
    assert result.predictions[Track.T1] == {"t1-0001": "a", "t1-0002": "b"}
    assert result.line_count == 2
    assert parse(b"  \n[]\n").errors[0].message.startswith("the file holds no predictions")


def test_array_errors_name_the_line_each_element_starts_on() -> None:
    data = (
        b'[\n  {"id": "t1-0001", "prediction": "a"},\n  {"id": "t1-0001",\n   "prediction": 5}\n]'
    )
    result = parse(data)
    assert [(e.line, e.item_id, e.message) for e in result.errors] == [
        (3, "t1-0001", "'prediction' must be a string — got a number; write the answer as text"),
        (3, "t1-0001", "duplicate id — first seen on line 2; keep one prediction per item"),
    ]


OPEN = b'[{"id": "t1-0001", "prediction": "a"}'


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (OPEN, 1, "the JSON array is not closed — add ']' at the end (column 38)"),
        (OPEN + b" {}]", 1, "expected ',' or ']' after an array element (column 39)"),
        (OPEN + b",\n]", 2, "not valid JSON: Expecting value (column 1)"),
        (OPEN + b"]\n{}", 2, "unexpected text after the JSON array's closing ']' (column 1)"),
    ],
)
def test_array_syntax_errors(data: bytes, line: int, message: str) -> None:
    error = only_error(parse(data))
    assert (error.line, error.item_id, error.message) == (line, None, message)


def test_a_bom_is_tolerated_in_both_forms() -> None:
    record = {"id": "t1-0001", "prediction": "Fabry disease"}
    assert parse(b"\xef\xbb\xbf" + jsonl(record)).ok
    assert parse(b"\xef\xbb\xbf" + json.dumps([record]).encode()).ok


def test_gzip_is_detected_by_magic_bytes_whatever_the_name() -> None:
    data = gzip.compress(jsonl({"id": "t1-0001", "prediction": "é"}))
    result = parse_predictions(data, filename="predictions.txt", track=Track.T1, gold_ids=GOLD)
    assert result.ok and result.predictions[Track.T1] == {"t1-0001": "é"}
    # Several gzip members (e.g. `cat a.gz b.gz`) are one stream.
    two = gzip.compress(jsonl({"id": "t1-0001", "prediction": "a"})) + gzip.compress(
        jsonl({"id": "t1-0002", "prediction": "b"})
    )
    assert parse(two).predictions[Track.T1] == {"t1-0001": "a", "t1-0002": "b"}


def test_a_corrupt_gzip_file_is_a_clear_error() -> None:
    data = gzip.compress(jsonl({"id": "t1-0001", "prediction": "a"}))
    error = only_error(parse(data[:-12]))
    assert error.line == 0
    assert error.message == (
        "the gzip file is truncated — compress the file again, or upload it uncompressed"
    )
    error = only_error(parse(b"\x1f\x8bnot really gzip"))
    assert error.message.startswith("not a valid gzip file (")


def test_gunzip_limited_stops_at_the_limit() -> None:
    plain = b"x" * 10_000
    packed = gzip.compress(plain)
    assert gunzip_limited(packed, 10_000) == plain
    with pytest.raises(PredictionFileTooLarge) as caught:
        gunzip_limited(packed, 9_999)
    assert caught.value.limit == 9_999
    assert str(caught.value) == (
        "the file is larger than 9,999 bytes once decompressed, the upload limit — "
        "split it into one file per track"
    )


def test_a_gzip_bomb_is_refused_without_expanding_it() -> None:
    bomb = gzip.compress(b"\x00" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(PredictionFileTooLarge):
        gunzip_limited(bomb, 1_000_000)
    with pytest.raises(PredictionFileTooLarge):
        parse(bomb, max_decompressed_bytes=1_000_000)


def test_gunzip_limited_passes_plain_content_through_but_counts_it() -> None:
    assert gunzip_limited(b"plain", 5) == b"plain"
    with pytest.raises(PredictionFileTooLarge):
        gunzip_limited(b"plain!", 5)
    corrupt = b"\x1f\x8b broken"
    assert gunzip_limited(corrupt, 100) == corrupt  # left for parse_predictions to report


def test_a_multi_track_file_says_each_lines_track() -> None:
    data = jsonl(
        {"id": "t1-0001", "track": "T1", "prediction": "a"},
        {"id": "t2-0001", "track": "T2", "prediction": "b"},
        {"id": "t3-0002", "track": "T3", "prediction": "c"},
    )
    result = parse(data, track=None)
    assert result.ok, result.report()
    assert result.predictions == {
        Track.T1: {"t1-0001": "a"},
        Track.T2: {"t2-0001": "b"},
        Track.T3: {"t3-0002": "c"},
    }
    assert result.report() == "preds.jsonl: valid — T1: 1, T2: 1, T3: 1"


def test_a_matching_line_track_is_fine_in_a_single_track_upload() -> None:
    assert parse(jsonl({"id": "t1-0001", "track": "T1", "prediction": "a"})).ok


# --- every rule, with its exact message -------------------------------------------------------

LONG = "x" * 9214
SHAPE = '{"id": "...", "prediction": "..."}'


@pytest.mark.parametrize(
    ("record", "track", "item_id", "message"),
    [
        pytest.param(
            "{not json",
            Track.T1,
            None,
            "not valid JSON (Expecting property name enclosed in double quotes at column 2) — "
            f"each line must be one complete JSON object like {SHAPE}",
        ),
        pytest.param(
            '{"id": "t1-0001", "prediction": NaN}',
            Track.T1,
            None,
            "not valid JSON (NaN is not valid JSON)",
        ),
        pytest.param(
            '"just a string"',
            Track.T1,
            None,
            f"expected a JSON object like {SHAPE} — got a string",
        ),
        pytest.param(
            "[1]",
            Track.T1,
            None,
            f"expected a JSON object like {SHAPE} — got a list",
        ),
        pytest.param(
            {"prediction": "a"},
            Track.T1,
            None,
            "missing 'id'",
        ),
        pytest.param(
            {"id": 12, "prediction": "a"},
            Track.T1,
            None,
            '\'id\' must be a string — got a number; write "id": "..."',
        ),
        pytest.param(
            {"id": "", "prediction": "a"},
            Track.T1,
            None,
            "'id' is empty",
        ),
        pytest.param(
            {"id": "t1-0001"},
            Track.T1,
            "t1-0001",
            'missing \'prediction\' — add "prediction": "<your answer>"',
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": ["a", "b"]},
            Track.T1,
            "t1-0001",
            "'prediction' must be a string — got a list; join the parts into one string",
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": {"text": "a"}},
            Track.T1,
            "t1-0001",
            "'prediction' must be a string — got an object; put the answer text itself here",
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": None},
            Track.T1,
            "t1-0001",
            "'prediction' must be a string — got null; write \"\" or leave the item out",
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": True},
            Track.T1,
            "t1-0001",
            "'prediction' must be a string — got true/false; write the answer as text",
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": LONG},
            Track.T1,
            "t1-0001",
            "prediction is 9,214 characters; the limit is 8,000 — shorten it",
        ),
        pytest.param(
            {"id": "t9-9999", "prediction": "a"},
            Track.T1,
            "t9-9999",
            "unknown id — no gold item has this id; check it against the benchmark's ids",
        ),
        pytest.param(
            {"id": "t3-0002", "prediction": "a"},
            Track.T1,
            "t3-0002",
            "id 't3-0002' belongs to track T3, not T1",
        ),
        pytest.param(
            {"id": "t3-0002", "track": "T1", "prediction": "a"},
            None,
            "t3-0002",
            "id 't3-0002' belongs to track T3, not T1",
        ),
        pytest.param(
            {"id": "t1-0001", "prediction": "a"},
            None,
            "t1-0001",
            "missing 'track' — with no track chosen for the upload, "
            "every line must name its track (T1, T2, T3, T4)",
        ),
        pytest.param(
            {"id": "t1-0001", "track": "t1", "prediction": "a"},
            None,
            "t1-0001",
            "'track' must be one of T1, T2, T3, T4 — got 't1'",
        ),
        pytest.param(
            {"id": "t1-0001", "track": 1, "prediction": "a"},
            Track.T1,
            "t1-0001",
            "'track' must be one of T1, T2, T3, T4 — got a number",
        ),
        pytest.param(
            {"id": "t2-0001", "track": "T2", "prediction": "a"},
            Track.T1,
            "t2-0001",
            "'track' is T2 but this upload is for T1 — remove the line or upload it under T2",
        ),
    ],
)
def test_each_rule_has_its_own_message(
    record: Any, track: Track | None, item_id: str | None, message: str
) -> None:
    good = {"id": "t1-0002", "track": "T1", "prediction": "fine"}
    result = parse(jsonl(good, record), track=track)
    error = only_error(result)
    assert (error.line, error.item_id, error.message) == (2, item_id, message)
    assert result.predictions == {Track.T1: {"t1-0002": "fine"}}  # only clean lines are kept


def test_the_long_prediction_message_reads_as_documented() -> None:
    data = jsonl(*[{"id": f"t2-{n:04d}", "prediction": "a"} for n in range(1, 7)])
    data += jsonl({"id": "t2-0003x", "prediction": "y" * 9214})
    error = only_error(parse(data, track=Track.T2, gold_ids=None))
    assert str(error) == (
        "line 7 (id 't2-0003x'): prediction is 9,214 characters; the limit is 8,000 — shorten it"
    )


def test_the_prediction_limit_is_a_parameter() -> None:
    record = {"id": "t1-0001", "prediction": "abcdef"}
    assert parse(jsonl(record), max_prediction_chars=6).ok
    assert only_error(parse(jsonl(record), max_prediction_chars=5)).message == (
        "prediction is 6 characters; the limit is 5 — shorten it"
    )


def test_duplicate_ids_name_the_first_line() -> None:
    data = jsonl(
        {"id": "t1-0001", "prediction": "a"},
        {"id": "t1-0002", "prediction": "b"},
        {"id": "t1-0001", "prediction": "c"},
    )
    error = only_error(parse(data, gold_ids=None))
    assert str(error) == (
        "line 3 (id 't1-0001'): duplicate id — first seen on line 1; keep one prediction per item"
    )


def test_without_gold_ids_unknown_and_misfiled_ids_cannot_be_checked() -> None:
    data = jsonl({"id": "t9-9999", "prediction": "a"}, {"id": "t3-0002", "prediction": "b"})
    result = parse(data, gold_ids=None)
    assert result.ok
    assert result.predictions[Track.T1] == {"t9-9999": "a", "t3-0002": "b"}


def test_a_line_with_several_problems_reports_each() -> None:
    result = parse(jsonl({"id": 5, "prediction": 5, "track": "T7"}), track=None)
    assert [e.message for e in result.errors] == [
        '\'id\' must be a string — got a number; write "id": "..."',
        "'prediction' must be a string — got a number; write the answer as text",
        "'track' must be one of T1, T2, T3, T4 — got 'T7'",
    ]


@pytest.mark.parametrize("data", [b"", b"   \n\n  \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_a_clear_error(data: bytes) -> None:
    error = only_error(parse(data))
    assert error == LineError(
        0, None, 'the file is empty — expected one {"id": "...", "prediction": "..."} per line'
    )
    assert parse(data).report().splitlines()[1] == (
        'preds.jsonl: the file is empty — expected one {"id": "...", "prediction": "..."} per line'
    )


def test_invalid_utf8_names_the_byte_offset_and_line() -> None:
    data = b"\xef\xbb\xbf" + jsonl({"id": "t1-0001", "prediction": "a"}) + b'{"id": "t1-\xc3"}\n'
    result = parse(data)
    error = only_error(result)
    assert (error.line, error.item_id) == (2, None)
    offset = data.index(b"\xc3")
    assert error.message == (
        f"not valid UTF-8 (byte 0xc3 at byte offset {offset}) — save the file as UTF-8"
    )
    array = b'[\n{"id": "t1-0001",\n "prediction": "\xff"}]'
    error = only_error(parse(array))
    assert error.line == 3
    offset = array.index(b"\xff")
    assert error.message == (
        f"not valid UTF-8 (byte 0xff at byte offset {offset}) — save the file as UTF-8"
    )


# --- collecting and reporting -----------------------------------------------------------------


def test_the_first_20_errors_are_listed_with_a_count_of_the_rest() -> None:
    data = jsonl(*[{"id": f"x-{n}", "prediction": "a"} for n in range(37)])
    result = parse(data)
    assert result.error_count == 37
    assert len(result.errors) == 20
    assert [e.line for e in result.errors] == list(range(1, 21))
    report = result.report().splitlines()
    assert report[0] == "preds.jsonl: 37 errors; the file was not accepted"
    assert report[1] == (
        "preds.jsonl line 1 (id 'x-0'): "
        "unknown id — no gold item has this id; check it against the benchmark's ids"
    )
    assert len(report) == 1 + 20 + 1
    assert report[-1] == "… and 17 more errors"
    assert parse(data, max_errors=36).report().splitlines()[-1] == "… and 1 more error"


def test_prediction_text_is_never_echoed() -> None:
    secret = "MY-PREDICTION-" * 1000
    data = jsonl(
        {"id": "t1-0001", "prediction": secret},
        {"id": "t1-0001", "prediction": secret},
        {"id": "t2-0001", "prediction": secret},
        f'{{"id": "t1-0003", "prediction": "{secret}" oops',
    )
    report = parse(data, max_prediction_chars=100).report()
    assert "MY-PREDICTION" not in report
    assert len(report) < 1000


# --- shipped and generated data ---------------------------------------------------------------


# T3 answers all eight items: one left out would put it below MIN_RANKED_COVERAGE.
DEMO_UNANSWERED: dict[Track, set[str]] = {
    Track.T1: {"t1-0010"},
    Track.T2: {"t2-0007"},
    Track.T3: set(),
    Track.T4: {"t4-0008"},
}


@pytest.mark.parametrize("track", list(Track))
def test_the_demo_predictions_validate_against_the_demo_gold(track: Track) -> None:
    bundle = parse_gold_bundle(DEMO_DIR / "gold.jsonl")
    path = DEMO_DIR / "predictions" / f"{track.value}.jsonl"
    result = parse_predictions(
        path.read_bytes(), filename=path.name, track=track, gold_ids=bundle.gold_ids()
    )
    assert result.ok, result.report()
    gold_ids = {item.id for item in bundle.items if item.track is track}
    assert gold_ids - set(result.predictions[track]) == DEMO_UNANSWERED[track]


def test_synthetic_predictions_validate_with_the_requested_coverage(tmp_path: Path) -> None:
    bundle_path = write_synthetic_bundle(tmp_path / "gold")
    bundle = parse_gold_bundle(bundle_path)
    paths = write_synthetic_predictions(bundle_path, tmp_path / "preds", seed=1, coverage=0.9)
    assert set(paths) == set(Track)
    for track, path in paths.items():
        result = parse_predictions(
            path.read_bytes(), filename=path.name, track=track, gold_ids=bundle.gold_ids()
        )
        assert result.ok, result.report()
        assert result.answered(track) == round(0.9 * bundle.track_counts()[track])
    again = write_synthetic_predictions(bundle_path, tmp_path / "again", seed=1, coverage=0.9)
    assert all(paths[t].read_bytes() == again[t].read_bytes() for t in Track)


def test_synthetic_quality_controls_overlap_with_the_reference(tmp_path: Path) -> None:
    bundle_path = write_synthetic_bundle(tmp_path / "gold", items=80)
    answers = {item.id: item.answer for item in parse_gold_bundle(bundle_path).items}

    def exact_share(quality: float) -> float:
        paths = write_synthetic_predictions(
            bundle_path, tmp_path / str(quality), quality=quality, coverage=1.0
        )
        texts = [path.read_text() for path in paths.values()]
        lines = [json.loads(line) for text in texts for line in text.splitlines() if line]
        return sum(r["prediction"] == answers[r["id"]] for r in lines) / len(lines)

    assert exact_share(0.0) == 0.0
    assert exact_share(1.0) > 0.6  # T1 may name an alias instead of the answer
    with pytest.raises(ValueError, match="quality must be between 0 and 1"):
        write_synthetic_predictions(bundle_path, tmp_path, quality=1.5)


def test_whitespace_only_predictions_count_as_empty() -> None:
    result = parse(
        jsonl(
            {"id": "t1-0001", "prediction": " \n\t "},
            {"id": "t1-0002", "prediction": "\u00a0"},
            {"id": "t1-0003", "prediction": " x "},
        )
    )
    assert result.ok
    assert result.answered(Track.T1) == 1
    assert result.empty(Track.T1) == 2
