"""Strict reply parsing: a reply either rates every dimension validly or is MalformedReply."""

import json
import re
from typing import Any

import pytest

from app.judge.reply import MalformedReply, parse_reply
from app.rubrics.loader import bundled_rubric
from app.tracks import Track

T1 = bundled_rubric(Track.T1)
T4 = bundled_rubric(Track.T4)
T1_OK = {"exact_match": "YES", "disease_category": "NO", "diagnostic_specificity": "YES"}
T1_RATINGS = {"exact_match": 1, "disease_category": 0, "diagnostic_specificity": 1}


def t4(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(T4.dimension_ids, 1)
    values.update(overrides)
    return values


def test_a_plain_json_object_parses() -> None:
    assert parse_reply(json.dumps(T1_OK), T1) == T1_RATINGS


def test_binary_words_are_case_insensitive_and_trimmed() -> None:
    reply = {"exact_match": " yes ", "disease_category": "No", "diagnostic_specificity": "YES"}
    assert parse_reply(json.dumps(reply), T1) == T1_RATINGS


def test_prose_around_exactly_one_object_is_accepted() -> None:
    reply = f"Let me assess this.\n{json.dumps(T1_OK)}\nThat is my verdict."
    assert parse_reply(reply, T1) == T1_RATINGS


def test_fenced_json_is_accepted() -> None:
    reply = f"```json\n{json.dumps(T1_OK, indent=2)}\n```"
    assert parse_reply(reply, T1) == T1_RATINGS


def test_braces_in_prose_that_are_not_json_are_skipped() -> None:
    reply = "Criteria {met partially}: " + json.dumps(T1_OK)
    assert parse_reply(reply, T1) == T1_RATINGS


def test_two_objects_are_rejected_even_if_equal() -> None:
    with pytest.raises(MalformedReply, match="more than one JSON object"):
        parse_reply(f"{json.dumps(T1_OK)}\n{json.dumps(T1_OK)}", T1)
    with pytest.raises(MalformedReply, match="more than one JSON object"):
        parse_reply(f"Draft: {{}}\nFinal: {json.dumps(T1_OK)}", T1)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty reply"),
        ("   ", "empty reply"),
        ("YES YES NO", "no JSON object"),
        ('{"exact_match": "YES",', "no JSON object"),
        ('["YES", "NO", "YES"]', "not an object (list)"),
        ('"YES"', "not an object (str)"),
    ],
)
def test_replies_without_one_object_are_malformed(reply: str, reason: str) -> None:
    with pytest.raises(MalformedReply, match=re.escape(reason)):
        parse_reply(reply, T1)


def test_missing_dimensions_are_named() -> None:
    reply = {"exact_match": "YES"}
    with pytest.raises(
        MalformedReply, match="missing dimension\\(s\\): disease_category, diagnostic_specificity"
    ):
        parse_reply(json.dumps(reply), T1)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(MalformedReply, match="unknown key\\(s\\): 'comment'"):
        parse_reply(json.dumps({**T1_OK, "comment": "good"}), T1)


@pytest.mark.parametrize("value", [True, False, 1, 0, "Y", "maybe", None, ["YES"]])
def test_binary_values_other_than_yes_no_are_rejected(value: Any) -> None:
    with pytest.raises(MalformedReply, match='exact_match: expected "YES" or "NO"'):
        parse_reply(json.dumps({**T1_OK, "exact_match": value}), T1)


def test_ordinal_ratings_parse() -> None:
    reply = t4(test_coverage=2, specificity=0)
    ratings = parse_reply(json.dumps(reply), T4)
    assert ratings["test_coverage"] == 2 and ratings["specificity"] == 0
    assert ratings["testing_precision"] == 1
    assert set(ratings) == set(T4.dimension_ids)


@pytest.mark.parametrize(("value", "expected"), [(2.0, 2), ("2", 2), (" 1 ", 1), (0, 0)])
def test_ordinal_integral_spellings_are_accepted(value: Any, expected: int) -> None:
    assert parse_reply(json.dumps(t4(specificity=value)), T4)["specificity"] == expected


@pytest.mark.parametrize("value", [1.5, True, "two", "1.0", None, "-1", "²"])
def test_ordinal_non_integers_are_rejected(value: Any) -> None:
    with pytest.raises(MalformedReply, match=r"specificity: expected an integer 0\.\.2"):
        parse_reply(json.dumps(t4(specificity=value)), T4)


@pytest.mark.parametrize("value", [-1, 3, 10])
def test_ordinal_out_of_range_is_rejected(value: int) -> None:
    with pytest.raises(MalformedReply, match=rf"specificity: {value} is outside 0\.\.2"):
        parse_reply(json.dumps(t4(specificity=value)), T4)


def test_long_offending_values_are_shortened_in_the_reason() -> None:
    with pytest.raises(MalformedReply) as caught:
        parse_reply(json.dumps({**T1_OK, "exact_match": "x" * 500}), T1)
    assert len(str(caught.value)) < 120


def test_malformed_reply_is_a_value_error() -> None:
    assert issubclass(MalformedReply, ValueError)
