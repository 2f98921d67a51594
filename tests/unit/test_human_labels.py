"""The human-label file parser: shapes, rubric dimensions and scales, line-numbered errors."""

import json

from app.formats.human_labels import LabelTarget, parse_human_labels
from app.rubrics.loader import bundled_rubric, bundled_rubrics
from app.tracks import Track

SUBMISSIONS = {
    1: LabelTarget(Track.T2, frozenset({"t2-0001", "t2-0002"})),
    2: LabelTarget(Track.T4, frozenset({"t4-0001"})),
}
T2_DIM = bundled_rubric(Track.T2).dimension_ids[0]
T4_DIM = bundled_rubric(Track.T4).dimension_ids[0]


def _lines(*records: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def _label(submission_id: int = 1, item_id: str = "t2-0001", rater: str = "a", **ratings: object):
    return {
        "submission_id": submission_id,
        "item_id": item_id,
        "rater": rater,
        "ratings": ratings or {T2_DIM: 1},
    }


def _check(data: bytes):
    return parse_human_labels(
        data, filename="labels.jsonl", submissions=SUBMISSIONS, rubrics=bundled_rubrics()
    )


def test_a_valid_file_gives_one_row_per_rated_dimension() -> None:
    data = _lines(
        _label(**{T2_DIM: "YES", "safety": 0}),
        "",
        _label(rater="b", **{T2_DIM: "no"}),
        _label(2, "t4-0001", **{T4_DIM: 2}),
    )
    parsed = _check(data)
    assert parsed.ok, parsed.report()
    assert parsed.line_count == 3
    got = {(r.line, r.submission_id, r.rater, r.dimension, r.value, r.track) for r in parsed.labels}
    assert got == {
        (1, 1, "a", T2_DIM, 1, Track.T2),
        (1, 1, "a", "safety", 0, Track.T2),
        (3, 1, "b", T2_DIM, 0, Track.T2),
        (4, 2, "a", T4_DIM, 2, Track.T4),
    }
    assert "valid" in parsed.report()


def test_every_problem_is_reported_with_its_line() -> None:
    data = _lines(
        "{not json",
        [1, 2],
        {"submission_id": "1", "item_id": "", "rater": " ", "ratings": {}, "extra": 1},
        _label(99),
        _label(item_id="t2-9999"),
        _label(**{"no_such_dimension": 1}),
        _label(**{T2_DIM: 2}),
        _label(2, "t4-0001", **{T4_DIM: "YES"}),
        _label(2, "t4-0001", **{T4_DIM: 3}),
        _label(**{T2_DIM: True}),
        _label(rater="dup"),
        _label(rater="dup"),
    )
    parsed = _check(data)
    assert not parsed.ok and parsed.labels == []
    by_line: dict[int, list[str]] = {}
    for error in parsed.errors:
        by_line.setdefault(error.line, []).append(error.message)
    assert "not valid JSON" in by_line[1][0]
    assert "expected an object" in by_line[2][0]
    line3 = " | ".join(by_line[3])
    for fragment in (
        "unknown field(s) extra",
        "submission_id must be an integer",
        "item_id",
        "rater",
    ):
        assert fragment in line3
    assert "submission 99 does not exist" in by_line[4][0]
    assert "is not a T2 item of submission 1" in by_line[5][0]
    assert "has no dimension 'no_such_dimension'" in by_line[6][0]
    assert "outside the dimension's scale 0 or 1" in by_line[7][0]
    assert "is ordinal (0–2)" in by_line[8][0]
    assert "outside the dimension's scale 0–2" in by_line[9][0]
    assert "must be an integer" in by_line[10][0]
    assert "already rated" in by_line[12][0] and "line 11" in by_line[12][0]
    assert 11 not in by_line
    report = parsed.report()
    assert report.startswith("labels.jsonl: ")
    assert "labels.jsonl line 5 (id 't2-9999'):" in report


def test_shape_only_check_without_the_database() -> None:
    parsed = parse_human_labels(_lines(_label(99, **{"anything": 7})))
    assert parsed.ok
    assert parsed.submission_ids == {99}
    assert parse_human_labels(_lines(_label(**{"x": -1}))).error_count == 1


def test_empty_and_undecodable_files() -> None:
    assert "has no labels" in parse_human_labels(b"\n\n").report()
    assert "not UTF-8" in parse_human_labels(b"\xff\xfe").report()


def test_the_error_list_is_capped_but_counted() -> None:
    parsed = parse_human_labels(b"x\n" * 50, max_errors=5)
    assert parsed.error_count == 50 and len(parsed.errors) == 5
    assert "and 45 more errors" in parsed.report()
