"""Property tests: any bytes, and structured but hostile JSON lines, given to the prediction,
gold-bundle and human-label parsers give a result or the parser's own error — never another
exception — and whatever they accept is text the database can store. Bounded and reproducible:
a fixed number of examples, derandomized, no example database."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.formats.gold_bundle import GoldBundleError, parse_gold_bundle
from app.formats.human_labels import parse_human_labels
from app.formats.predictions import PredictionFileTooLarge, parse_predictions
from app.formats.text import MAX_JSON_DEPTH, TextKind, text_problem
from app.tracks import Track

FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
GOLD_IDS = {"t1-0001": Track.T1, "t2-0001": Track.T2}

# Text that reaches every refused class: controls, surrogates, bidi and zero-width characters.
hostile_text = st.text(
    st.characters(codec=None, categories=None, exclude_characters=None), max_size=30
) | st.sampled_from(["\x00", "\ud800", "a\udfffb", "\u202e", "\u200b", "\x1b[31m", "\r\n", ""])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["id", "prediction", "track", "item_id", "submission_id", "rater"])
records = st.dictionaries(fields | hostile_text, json_values, max_size=6)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


ids = st.sampled_from(list(GOLD_IDS)) | hostile_text
# Lines shaped like each file's records, with hostile values where the parsers look.
shaped = (
    st.fixed_dictionaries(
        {"id": ids, "prediction": hostile_text | json_values},
        optional={"track": st.sampled_from(["T1", "T2", "t1", ""]) | json_values},
    )
    | st.fixed_dictionaries(
        {
            "submission_id": st.integers(-(2**40), 2**40) | json_values,
            "item_id": ids,
            "rater": hostile_text,
            "ratings": st.dictionaries(hostile_text, json_values, max_size=3),
        }
    )
    | st.fixed_dictionaries(
        {"id": ids, "track": st.sampled_from(["T1", "T2"]), "question": hostile_text},
        optional={"answer": hostile_text, "aliases": json_values, "targets": json_values},
    )
)
# Written as text: json.dumps itself cannot nest 3,000 levels deep.
too_deep = st.integers(MAX_JSON_DEPTH - 1, 3000).map(
    lambda depth: '{"id": "t1-0001", "prediction": "x", "extra": ' + nested(depth) + "}"
)
# json.dumps escapes surrogates: the file is valid UTF-8, the JSON in it is hostile.
hostile_lines = st.lists(
    (shaped | records | json_values).map(json.dumps) | too_deep, min_size=1, max_size=6
).map(lambda lines: "\n".join(lines).encode())
any_bytes = (
    st.binary(max_size=400)
    | hostile_lines
    | st.lists(
        st.binary(max_size=40)
        | st.sampled_from([b"\xef\xbb\xbf", b"[", b"]", b",", b"\n", b"\r\n"]),
        max_size=12,
    ).map(b"".join)
)


def assert_storable(value: str, kind: TextKind) -> None:
    assert text_problem(value, kind) is None, repr(value)


@FUZZ
@given(data=any_bytes, track=st.sampled_from([None, Track.T1]))
def test_predictions_parse_any_bytes(data: bytes, track: Track | None) -> None:
    try:
        parsed = parse_predictions(
            data, filename="p.jsonl", track=track, gold_ids=GOLD_IDS, max_decompressed_bytes=10_000
        )
    except PredictionFileTooLarge:
        return
    assert parsed.ok == (parsed.error_count == 0)
    parsed.report()  # renders
    for error in parsed.errors:
        assert error.line >= 0 and error.message
        if error.item_id is not None:
            assert_storable(error.item_id, TextKind.NAME)
    for items in parsed.predictions.values():
        for item_id, text in items.items():
            assert_storable(item_id, TextKind.NAME)
            assert_storable(text, TextKind.TEXT)


@FUZZ
@given(data=any_bytes)
def test_gold_bundles_parse_any_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "gold.jsonl"
        path.write_bytes(data)
        try:
            bundle = parse_gold_bundle(path)
        except GoldBundleError as exc:
            assert exc.errors and exc.report()
            return
    for item in bundle.items:
        assert_storable(item.id, TextKind.NAME)
        for text in (item.question, item.answer, item.context or "", item.category or ""):
            assert_storable(text, TextKind.TEXT)


@FUZZ
@given(data=any_bytes | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_human_labels_parse_any_bytes(data: bytes) -> None:
    parsed = parse_human_labels(data, filename="labels.jsonl")
    parsed.report()
    assert parsed.ok == (parsed.error_count == 0)
    for row in parsed.labels:
        assert 1 <= row.submission_id <= 2**31 - 1
        assert_storable(row.item_id, TextKind.NAME)
        assert_storable(row.rater, TextKind.NAME)


def test_nesting_past_the_bound_is_a_line_error_in_each_parser(tmp_path: Path) -> None:
    deep = ('{"id": "t1-0001", "prediction": "x", "extra": ' + nested(5000) + "}\n").encode()
    predictions = parse_predictions(deep, filename="p.jsonl", track=Track.T1, gold_ids=GOLD_IDS)
    assert [e.message for e in predictions.errors] == [
        f"not valid JSON (nested more than {MAX_JSON_DEPTH} levels deep — flatten the arrays "
        "and objects)"
    ]
    as_array = parse_predictions(
        b"[" + deep + b"]", filename="p.json", track=Track.T1, gold_ids=GOLD_IDS
    )
    assert "nested more than 32 levels deep" in as_array.errors[0].message
    (tmp_path / "gold.jsonl").write_bytes(deep)
    try:
        parse_gold_bundle(tmp_path)
    except GoldBundleError as exc:
        assert "line 1: not valid JSON (nested more than 32 levels deep" in exc.report()
    else:
        raise AssertionError("a too-deep gold line was accepted")
    labels = parse_human_labels(nested(40).encode())
    assert "nested more than 32 levels deep" in labels.errors[0].message
